// The broker as a service manager runs it: settings from a config file
// (--config, as /etc/ledgerq/broker.conf is read), and readiness told to
// systemd over $NOTIFY_SOCKET (Type=notify) only once it can answer.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "broker_process.hpp"
#include "raw_peer.hpp"

namespace ledgerq {
namespace {

using namespace std::chrono_literals;
using testing::BrokerProcess;
using testing::RawPeer;
using testing::run_broker_once;

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

TEST(Config, SettingsComeFromTheFileAndFlagsWin) {
  testing::TempDir dir;
  write_file(dir.path() / "broker.conf", "# a comment\nsync = \"none\"\njob-retention = \"1h30m\"\n"
                                         "map-size = \"64MiB\"\ndata = \"" + (dir.path() / "from-file").string() + "\"\n");
  {
    BrokerProcess b(dir.path() / "data", {"--config", (dir.path() / "broker.conf").string()});
    zmq::context_t ctx{1};
    RawPeer peer{ctx, b.router()};
    const auto st = peer.ok<reply::Stats>(cmd::Stats{});
    EXPECT_EQ(st.map_size, std::uint64_t{64} << 20) << "map-size from the file";
    EXPECT_EQ(b.terminate(), 0);
  }
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "data")) << "--data on the command line wins over the file";
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "from-file"));
}

TEST(Config, TheShippedFileIsValid) {
  // Every setting of packaging/broker.conf is a flag the broker knows: started
  // with it (its data directory overridden), the broker comes up.
  testing::TempDir dir;
  BrokerProcess b(dir.path() / "data", {"--config", LEDGERQ_SOURCE_DIR "/packaging/broker.conf"});
  EXPECT_EQ(b.terminate(), 0);
}

TEST(Config, AMisspeltOrBadSettingIsAnErrorNotADefault) {
  testing::TempDir dir;
  const auto conf = dir.path() / "broker.conf";
  const auto data = (dir.path() / "data").string();
  write_file(conf, "sink = \"none\"\n");
  auto [rc, out] = run_broker_once({"--config", conf.string(), "--data", data});
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("sink"), std::string::npos) << out;
  write_file(conf, "sync = \"fast\"\n");
  std::tie(rc, out) = run_broker_once({"--config", conf.string(), "--data", data});
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("--sync"), std::string::npos) << out;
  std::tie(rc, out) = run_broker_once({"--config", (dir.path() / "absent.conf").string(), "--data", data});
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("absent.conf"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(data)) << "nothing starts on a bad config";
}

// A datagram socket standing in for systemd's notify socket.
class NotifySocket {
 public:
  explicit NotifySocket(const std::filesystem::path& path) : path_(path.string()) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    path_.copy(a.sun_path, sizeof a.sun_path - 1);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("cannot bind " + path_);
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() { ::close(fd_); }
  /// The next datagram, or "" after 10 s.
  std::string next() {
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }
  /// Whether a datagram is already waiting.
  bool pending() {
    char c;
    return ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT) >= 0;
  }

 private:
  std::string path_;
  int fd_ = -1;
};

TEST(Systemd, ReadyIsToldOnceTheBrokerAnswersAndStoppingAtTheEnd) {
  testing::TempDir dir;
  NotifySocket sd(dir.path() / "notify");
  ::setenv("NOTIFY_SOCKET", (dir.path() / "notify").c_str(), 1);
  BrokerProcess b(dir.path() / "data");  // the child takes NOTIFY_SOCKET with it
  ::unsetenv("NOTIFY_SOCKET");
  const std::string ready = sd.next();
  EXPECT_NE(ready.find("READY=1"), std::string::npos) << ready;
  EXPECT_NE(ready.find("STATUS=serving on " + b.router()), std::string::npos) << ready;
  zmq::context_t ctx{1};
  RawPeer peer{ctx, b.router()};
  peer.ok<reply::Ping>(cmd::Ping{});
  EXPECT_FALSE(sd.pending()) << "nothing more while serving";
  EXPECT_EQ(b.terminate(), 0);
  EXPECT_EQ(sd.next(), "STOPPING=1");
}

}  // namespace
}  // namespace ledgerq
