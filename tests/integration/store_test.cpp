// A store that fills up: the map grows by itself, the log warns at 80% and
// 95% of what it can grow to, and at the limit writes are refused (500)
// while reads go on and nothing acknowledged is lost.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "broker_process.hpp"
#include "raw_peer.hpp"

namespace ledgerq {
namespace {

using testing::BrokerProcess;
using testing::RawPeer;

// A msgpack bin32 of n bytes: a body of any size.
Any bin(std::size_t n) {
  std::string m("\xc6", 1);
  for (int shift = 24; shift >= 0; shift -= 8) m.push_back(static_cast<char>((n >> shift) & 0xff));
  return Any{m + std::string(n, 'b')};
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(Store, TheMapGrowsWarnsAndAtItsLimitRefusesWritesButKeepsWhatItAcknowledged) {
  testing::TempDir dir;
  const auto log = dir.path() / "broker.log";
  BrokerProcess broker(dir.path() / "data", {"--map-size", "1MiB", "--map-max", "8MiB", "--log-level", "info"}, log);
  zmq::context_t ctx{1};
  RawPeer peer(ctx, broker.router());
  peer.ok<reply::DsCreate>(cmd::DsCreate{"q", std::nullopt});
  const Any body = bin(60'000);
  std::vector<std::string> acknowledged;
  Reply refused;
  for (int i = 0; i < 400; ++i) {
    // The levels are read from LMDB, which the broker commits behind the
    // journal: at this pace it does at each pause (the loop idle), and the
    // 80% and 95% lines each get their turn.
    std::this_thread::sleep_for(std::chrono::milliseconds(15));
    const std::string job = "j" + std::to_string(i);
    auto r = peer.call(cmd::Submit{"q", job, "c", body, std::nullopt});
    if (r.code != Code::ok) {
      refused = r;
      break;
    }
    acknowledged.push_back(job);
  }
  ASSERT_EQ(refused.code, Code::internal) << "8 MiB cannot hold 400 bodies of 60 kB";
  EXPECT_NE(refused.message.find("MDB_MAP_FULL"), std::string::npos) << refused.message;
  EXPECT_GT(acknowledged.size(), 40u) << "the map grew past its 1 MiB start (a body is stored twice: log and job)";
  // Every write meets the full store now; the log says so once, not each time.
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(peer.call(cmd::Submit{"q", "late" + std::to_string(i), "c", body, std::nullopt}).code, Code::internal);
  // Reads go on, and every acknowledged job is there.
  for (const auto& job : acknowledged)
    ASSERT_EQ(peer.ok<reply::Status>(cmd::Status{"q", job, "c"}).status.status, JobStatus::submitted) << job;
  const std::string l = read_file(log);
  EXPECT_NE(l.find("map grew to 2 MiB"), std::string::npos) << l;
  EXPECT_NE(l.find("map grew to 8 MiB"), std::string::npos) << l;
  EXPECT_NE(l.find("the store is full"), std::string::npos) << l;
  EXPECT_EQ(l.find("the store is full", l.find("the store is full") + 1), std::string::npos)
      << "one line per 10 s, not one per refused turn\n" << l;
  EXPECT_NE(l.find("[warning] the store uses"), std::string::npos) << "the 80% warning\n" << l;
  EXPECT_NE(l.find("[error] the store uses"), std::string::npos) << "the 95% error\n" << l;
}

TEST(Store, ATurnTooBigForTheMapGrowsItAndIsAppliedAgain) {
  testing::TempDir dir;
  const auto log = dir.path() / "broker.log";
  BrokerProcess broker(dir.path() / "data", {"--map-size", "1MiB", "--log-level", "info"}, log);
  zmq::context_t ctx{1};
  RawPeer peer(ctx, broker.router());
  peer.ok<reply::DsCreate>(cmd::DsCreate{"q", std::nullopt});
  // 600 kB, stored twice (log and job): more than the whole 1 MiB map.
  peer.ok<reply::Submit>(cmd::Submit{"q", "big", "c", bin(600'000), std::nullopt});
  EXPECT_EQ(peer.ok<reply::Status>(cmd::Status{"q", "big", "c"}).status.status, JobStatus::submitted);
  const std::string l = read_file(log);
  EXPECT_NE(l.find("(a commit met MDB_MAP_FULL)"), std::string::npos) << l;
  EXPECT_EQ(l.find("retrying one command per transaction"), std::string::npos) << l;
}

}  // namespace
}  // namespace ledgerq
