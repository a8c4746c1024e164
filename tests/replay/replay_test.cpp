// ledgerq-replay as a process, beside a real broker process and its real
// LMDB file: printing with filters and time forms, following, verifying a
// healthy, a tampered and a trimmed store, and refusing bad flags and bad
// stores with a clear message, a non-zero status and the store unchanged.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "codec/codec.hpp"
#include "common/broker_process.hpp"
#include "domain/view.hpp"
#include "json.hpp"
#include "raw_peer.hpp"
#include "storage/lmdb_env.hpp"
#include "codec/time_text.hpp"

namespace ledgerq {
namespace {

using namespace std::chrono_literals;
using testing::RawPeer;
using tools::BrokerProcess;
using tools::json;
using tools::TempDir;

Any text(std::string_view s) {
  std::string m(1, static_cast<char>(0xa0 | s.size()));  // fixstr: s is short
  m.append(s);
  return Any{m};
}

struct Run {
  int status;
  std::string out;
  /// The JSON objects among the output lines (stderr is mixed in).
  std::vector<json> entries() const {
    std::vector<json> v;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);)
      if (!line.empty() && line.front() == '{') v.push_back(json::parse(line));
    return v;
  }
  bool says(std::string_view s) const { return out.find(s) != std::string::npos; }
};

Run replay(std::vector<std::string> args) {
  auto [status, out] = tools::run_once(LEDGERQ_REPLAY_PATH, args);
  return {status, out};
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

std::vector<std::string> types_of(const std::vector<json>& es) {
  std::vector<std::string> t;
  for (const auto& e : es) t.push_back(e.at("type").get<std::string>());
  return t;
}

std::vector<std::string> jobs_of(const std::vector<json>& es) {
  std::vector<std::string> t;
  for (const auto& e : es) t.push_back(e.value("job", std::string()));
  return t;
}

// The replay tool as a child whose stdout is a pipe the test reads, for
// --follow: lines are awaited (condition, not sleep), then SIGINT.
class Follower {
 public:
  explicit Follower(std::vector<std::string> args) {
    args.insert(args.begin(), LEDGERQ_REPLAY_PATH);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(p[1], STDOUT_FILENO);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(p[1]);
    fd_ = p[0];
  }
  ~Follower() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(fd_);
  }
  /// Reads until the output holds `needle` lines containing it... or 10 s.
  bool wait_for(std::string_view needle, int times = 1) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      std::size_t n = 0;
      for (auto at = out_.find(needle); at != std::string::npos; at = out_.find(needle, at + 1)) ++n;
      if (n >= static_cast<std::size_t>(times)) return true;
      pollfd pf{fd_, POLLIN, 0};
      if (::poll(&pf, 1, 100) <= 0) continue;
      char buf[4096];
      const ssize_t got = ::read(fd_, buf, sizeof buf);
      if (got <= 0) return false;
      out_.append(buf, static_cast<std::size_t>(got));
    }
    return false;
  }
  /// SIGINT, then the exit status.
  int interrupt() {
    ::kill(pid_, SIGINT);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }
  const std::string& out() const { return out_; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string out_;
};

class ReplayTest : public ::testing::Test {
 protected:
  void start(std::vector<std::string> flags = {}) {
    flags.insert(flags.end(), {"--sync", "none"});
    broker_ = std::make_unique<BrokerProcess>(LEDGERQ_BROKER_PATH, data_, flags);
    peer_ = std::make_unique<RawPeer>(ctx_, broker_->router());
  }
  void stop() {
    peer_.reset();
    ASSERT_EQ(broker_->terminate(), 0);
    broker_.reset();
  }

  // Two datasources, three jobs of two clients; a lease and an ack, a
  // driver's status update and a cancel. Nine log entries:
  //   ds_create images, ds_create audio, submit images/j1 (a),
  //   submit images/j2 (b), submit audio/j3 (a), lease images/j1,
  //   ack images/j1, status audio/j3, cancel images/j2.
  void traffic() {
    peer_->ok<reply::DsCreate>(cmd::DsCreate{"images"});
    peer_->ok<reply::DsCreate>(cmd::DsCreate{"audio"});
    peer_->ok<reply::Submit>(cmd::Submit{"images", "j1", "a", text("one")});
    peer_->ok<reply::Submit>(cmd::Submit{"images", "j2", "b", text("two")});
    peer_->ok<reply::Submit>(cmd::Submit{"audio", "j3", "a", text("three")});
    auto leased = peer_->ok<reply::Dequeue>(cmd::Dequeue{.datasource = "images", .worker = "w1"});
    ASSERT_EQ(leased.jobs.size(), 1u);
    ASSERT_EQ(leased.jobs[0].state.job, "j1");
    auto acked = peer_->ok<reply::Ack>(cmd::Ack{
        "images", {cmd::AckItem{.job = "j1", .token = leased.jobs[0].state.token, .outcome = "success"}}});
    ASSERT_EQ(acked.results.size(), 1u);
    peer_->ok<reply::Status>(cmd::Update{"audio", "j3", JobStatus::complete, text("done"), std::nullopt});
    peer_->ok<reply::Status>(cmd::Cancel{"images", "j2", "b"});
  }

  std::vector<json> all() {
    auto r = replay({"--data", data_.string()});
    EXPECT_EQ(r.status, 0) << r.out;
    return r.entries();
  }

  TempDir dir_;
  std::filesystem::path data_ = dir_.path() / "data";
  zmq::context_t ctx_{1};
  // --verify reads LMDB, which the broker commits behind its journal
  // (broker/transport/store.hpp): once its loop has been idle for a few
  // milliseconds, LMDB holds every entry and every trim.
  static void settle() { std::this_thread::sleep_for(std::chrono::milliseconds(100)); }

  std::unique_ptr<BrokerProcess> broker_;
  std::unique_ptr<RawPeer> peer_;
};

const std::vector<std::string> kAllTypes = {"ds_create", "ds_create", "submit", "submit", "submit",
                                            "lease",     "ack",       "status", "cancel"};

TEST_F(ReplayTest, PrintsEveryEntryAsJsonLinesBesideTheRunningBroker) {
  start();
  traffic();
  auto es = all();
  ASSERT_EQ(types_of(es), kAllTypes);
  for (std::size_t i = 0; i < es.size(); ++i) {
    EXPECT_EQ(es[i].at("time"), codec::format_time(es[i].at("ts").get<Micros>()));
    if (i > 0) {
      EXPECT_GT(es[i].at("ts").get<Micros>(), es[i - 1].at("ts").get<Micros>());
    }
  }
  EXPECT_EQ(es[2].at("datasource"), "images");
  EXPECT_EQ(es[2].at("job"), "j1");
  EXPECT_EQ(es[2].at("client"), "a");
  EXPECT_EQ(es[2].at("request"), "one");
  EXPECT_EQ(es[5].at("worker"), "w1");
  EXPECT_EQ(es[7].at("status"), "complete");
  // The broker was not disturbed: it still answers, and writes.
  peer_->ok<reply::Submit>(cmd::Submit{"images", "j4", "a", text("four")});
  EXPECT_EQ(all().size(), kAllTypes.size() + 1);
}

TEST_F(ReplayTest, FiltersByDatasourceClientJobAndType) {
  start();
  traffic();
  const std::string d = data_.string();
  auto audio = replay({"--data", d, "--datasource", "audio"});
  auto es = audio.entries();
  EXPECT_EQ(types_of(es), (std::vector<std::string>{"ds_create", "submit", "status"})) << audio.status << audio.out;

  // Client a's jobs: j1 and j3, with j1's lease and ack, which carry no
  // client in the log.
  es = replay({"--data", d, "--client", "a"}).entries();
  EXPECT_EQ(types_of(es), (std::vector<std::string>{"submit", "submit", "lease", "ack", "status"}));
  EXPECT_EQ(jobs_of(es), (std::vector<std::string>{"j1", "j3", "j1", "j1", "j3"}));
  // ...also when the scan starts after the submit (the owner comes from the view).
  const auto ts = all();
  es = replay({"--data", d, "-c", "a", "--from", std::to_string(ts[5].at("ts").get<Micros>())}).entries();
  EXPECT_EQ(types_of(es), (std::vector<std::string>{"lease", "ack", "status"}));

  es = replay({"--data", d, "--job", "j2"}).entries();
  EXPECT_EQ(types_of(es), (std::vector<std::string>{"submit", "cancel"}));
  es = replay({"--data", d, "--type", "submit,ack"}).entries();
  EXPECT_EQ(types_of(es), (std::vector<std::string>{"submit", "submit", "submit", "ack"}));
  es = replay({"--data", d, "-t", "submit", "-d", "images", "-c", "b"}).entries();
  EXPECT_EQ(jobs_of(es), (std::vector<std::string>{"j2"}));
  es = replay({"--data", d, "-d", "images", "-d", "audio", "-t", "ds_create"}).entries();
  EXPECT_EQ(es.size(), 2u);
  auto none = replay({"--data", d, "--client", "nobody"});
  EXPECT_EQ(none.status, 0);
  EXPECT_TRUE(none.out.empty()) << none.out;
}

TEST_F(ReplayTest, FromToAndCountInEveryTimeForm) {
  start();
  traffic();
  const std::string d = data_.string();
  const auto es = all();
  const Micros t2 = es[2].at("ts"), t5 = es[5].at("ts");

  auto r = replay({"--data", d, "--from", std::to_string(t2), "--to", std::to_string(t5)});
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(types_of(r.entries()), (std::vector<std::string>{"submit", "submit", "submit"}));
  // RFC 3339, in UTC and with an offset, names the same instants.
  r = replay({"--data", d, "--from", codec::format_time(t2), "--to", codec::format_time(t5)});
  EXPECT_EQ(r.entries().size(), 3u) << r.out;
  std::string plus_one = codec::format_time(t2);  // ...Z -> one hour ahead, +01:00
  const int hour = std::stoi(plus_one.substr(11, 2));
  if (hour < 23) {
    plus_one.replace(11, 2, (hour + 1 < 10 ? "0" : "") + std::to_string(hour + 1));
    plus_one.replace(plus_one.size() - 1, 1, "+01:00");
    EXPECT_EQ(replay({"--data", d, "--from", plus_one}).entries().front().at("ts"), t2);
  }
  // Relative to now: everything happened within the last five minutes.
  EXPECT_EQ(replay({"--data", d, "--from", "-5m"}).entries().size(), es.size());
  EXPECT_EQ(replay({"--data", d, "--to", "-5m"}).entries().size(), 0u);
  EXPECT_EQ(replay({"--data", d, "--from", "now"}).entries().size(), 0u);
  // Count, alone and after filters.
  EXPECT_EQ(types_of(replay({"--data", d, "-n", "2"}).entries()),
            (std::vector<std::string>{"ds_create", "ds_create"}));
  EXPECT_EQ(jobs_of(replay({"--data", d, "--count", "2", "-t", "submit"}).entries()),
            (std::vector<std::string>{"j1", "j2"}));
  EXPECT_EQ(replay({"--data", d, "--from", std::to_string(t5), "--count", "100"}).entries().size(), 4u);
}

TEST_F(ReplayTest, TextFormatIsAlignedAndReadable) {
  start();
  traffic();
  auto r = replay({"--data", data_.string(), "--format", "text"});
  ASSERT_EQ(r.status, 0) << r.out;
  std::istringstream in(r.out);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), kAllTypes.size()) << r.out;
  // Columns: time (27), type (12, at 29), datasource (at 42), job.
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].find(kAllTypes[i]), 29u) << lines[i];
    const std::string ds = lines[i].substr(42, 6);
    EXPECT_TRUE(ds == "images" || ds == "audio ") << lines[i];
  }
  EXPECT_NE(lines[2].find("client=a"), std::string::npos) << lines[2];
  EXPECT_NE(lines[5].find("worker=w1"), std::string::npos) << lines[5];
  EXPECT_NE(lines[7].find("status=complete"), std::string::npos) << lines[7];
  EXPECT_EQ(lines[0].substr(0, 27), codec::format_time(all()[0].at("ts").get<Micros>()));
}

TEST_F(ReplayTest, TextFormatEscapesIdsThatWouldForgeALineOrDriveTheTerminal) {
  start();
  peer_->ok<reply::DsCreate>(cmd::DsCreate{"q"});
  peer_->ok<reply::Submit>(cmd::Submit{"q", "j\nforged line\x1b[2J", "c\x07", text("x")});
  auto r = replay({"--data", data_.string(), "--format", "text"});
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2) << r.out;  // two entries, two lines
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\x07'), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("'j\\x0aforged line\\x1b[2J'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("client='c\\x07'"), std::string::npos) << r.out;
}

TEST_F(ReplayTest, FollowPrintsEntriesCommittedAfterItStarted) {
  start();
  traffic();
  Follower f({"--data", data_.string(), "--follow", "-t", "submit"});
  ASSERT_TRUE(f.wait_for("\"submit\"", 3)) << f.out();  // caught up with the log
  peer_->ok<reply::Submit>(cmd::Submit{"images", "late", "a", text("x")});
  ASSERT_TRUE(f.wait_for("\"late\"")) << f.out();
  peer_->ok<reply::Submit>(cmd::Submit{"audio", "later", "b", text("y")});
  ASSERT_TRUE(f.wait_for("\"later\"")) << f.out();
  EXPECT_EQ(f.interrupt(), 0);  // SIGINT ends it cleanly
  EXPECT_EQ(f.out().find("\"lease\""), std::string::npos);  // the filter held

  // --follow-for bounds it; --count ends it as soon as enough came.
  auto r = replay({"--data", data_.string(), "--follow-for", "300ms"});
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.entries().size(), kAllTypes.size() + 2);
  r = replay({"--data", data_.string(), "--follow", "-n", "3"});
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.entries().size(), 3u);
}

TEST_F(ReplayTest, FollowGoesOnWhileTheBrokerGrowsItsMap) {
  start({"--map-size", "1MiB"});
  peer_->ok<reply::DsCreate>(cmd::DsCreate{"images", std::nullopt});
  Follower f({"--data", data_.string(), "--follow", "-t", "submit"});
  peer_->ok<reply::Submit>(cmd::Submit{"images", "first", "a", text("x")});
  ASSERT_TRUE(f.wait_for("\"first\"")) << f.out();
  // 100 bodies of 30 kB: the map doubles from 1 MiB to 8 MiB under the
  // follower, whose next read meets MDB_MAP_RESIZED and adopts the new size.
  for (int i = 0; i < 100; ++i)
    peer_->ok<reply::Submit>(cmd::Submit{"images", "big" + std::to_string(i), "a", Any{std::string("\xc5\x75\x30", 3) + std::string(30'000, 'b')}});
  peer_->ok<reply::Submit>(cmd::Submit{"images", "last", "a", text("x")});
  ASSERT_TRUE(f.wait_for("\"last\"")) << f.out();
  EXPECT_EQ(f.interrupt(), 0) << f.out();
  auto r = replay({"--data", data_.string(), "--verify"});
  EXPECT_EQ(r.status, 0) << r.out;
}

TEST_F(ReplayTest, VerifyPassesOnAHealthyStoreBesideTheBroker) {
  start();
  traffic();
  settle();
  auto r = replay({"--data", data_.string(), "--verify"});
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(r.says("ok: the view equals the fold of the log (9 entries)")) << r.out;
  stop();
  r = replay({"--data", data_.string(), "--verify"});
  EXPECT_EQ(r.status, 0) << r.out;
}

TEST_F(ReplayTest, VerifyNamesEveryKeyOfATamperedView) {
  start();
  traffic();
  stop();
  {
    storage::Env env(storage::EnvOptions{.dir = data_});
    auto txn = env.begin_write();
    const std::string key = domain::join("audio", *txn.get(domain::Table::job_ids, domain::join("audio", "j3")));
    auto rec = codec::decode_job_record(*txn.get(domain::Table::jobs, key));
    ASSERT_TRUE(rec.ok());
    rec->state.custom_status = "tampered";
    txn.put(domain::Table::jobs, key, codec::encode(*rec));
    txn.put(domain::Table::datasources, "ghost", codec::encode(DatasourceRecord{.created = rec->state.submitted}));
    txn.commit();
  }
  const std::string before = slurp(data_ / "data.mdb");
  auto r = replay({"--data", data_.string(), "--verify"});
  EXPECT_EQ(r.status, 1) << r.out;
  // The jobs table is keyed by submission order: audio NUL be64(order of j3).
  EXPECT_TRUE(r.says("jobs[audio\\x00\\x00\\x00")) << r.out;
  EXPECT_TRUE(r.says("]: the broker's view differs from the fold of the log")) << r.out;
  EXPECT_TRUE(r.says("datasources[ghost]: only in the broker's view")) << r.out;
  EXPECT_TRUE(r.says("2 difference(s)")) << r.out;
  EXPECT_EQ(slurp(data_ / "data.mdb"), before);
}

TEST_F(ReplayTest, VerifyReportsALogTrimmedByRetention) {
  start({"--log-max-size", "1"});  // every entry is trimmed at once
  traffic();
  // Trimming runs after the commits: wait until the broker reports it.
  for (int i = 0; i < 250; ++i) {  // up to 5 s
    if (peer_->ok<reply::Stats>(cmd::Stats{}).log_entries <= 1) break;
    std::this_thread::sleep_for(20ms);
  }
  settle();
  auto r = replay({"--data", data_.string(), "--verify"});
  EXPECT_EQ(r.status, 3) << r.out;
  EXPECT_TRUE(r.says("cannot verify")) << r.out;
  EXPECT_TRUE(r.says("trimmed by retention")) << r.out;
  // Printing still works, and says what it cannot show.
  peer_->ok<reply::Submit>(cmd::Submit{"images", "j9", "a", text("nine")});
  r = replay({"--data", data_.string()});
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_LE(r.entries().size(), 1u);
}

TEST_F(ReplayTest, VerifyReportsALogThatLostItsBeginning) {
  start({"--log-max-size", "800"});  // a few entries (and their notices) survive
  traffic();
  for (int i = 0; i < 10; ++i) peer_->ok<reply::Submit>(cmd::Submit{"images", "k" + std::to_string(i), "a", text("x")});
  for (int i = 0; i < 250; ++i) {  // up to 5 s
    auto st = peer_->ok<reply::Stats>(cmd::Stats{});
    if (st.log_bytes + st.notice_bytes <= 800 && st.log_entries > 0) break;
    std::this_thread::sleep_for(20ms);
  }
  settle();
  auto r = replay({"--data", data_.string(), "--verify"});
  EXPECT_EQ(r.status, 3) << r.out;
  EXPECT_TRUE(r.says("the log was trimmed by retention: it begins at")) << r.out;
  r = replay({"--data", data_.string()});
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(r.says("note: the log begins at")) << r.out;
  EXPECT_GE(r.entries().size(), 1u);
}

TEST_F(ReplayTest, BadFlagsAreRefusedAndChangeNothing) {
  start();
  traffic();
  stop();
  const std::string d = data_.string();
  const std::string before = slurp(data_ / "data.mdb");
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--bogus"}, "--bogus"},
      {{"--from", "yesterday"}, "RFC 3339"},
      {{"--from", "2024-05-01T12:00:00"}, "time zone"},
      {{"--to", "-5x"}, "--to"},
      {{"--from", "-1m", "--to", "-5m"}, "must be after --from"},
      {{"--type", "submit,nonsense"}, "no entry type 'nonsense'"},
      {{"--count", "0"}, "--count"},
      {{"--count", "many"}, "--count"},
      {{"--format", "xml"}, "--format"},
      {{"--follow-for", "soon"}, "not a duration"},
      {{"--verify", "--datasource", "images"}, "excludes"},
      {{"--verify", "--from", "-5m"}, "excludes"},
      {{"positional"}, "positional"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"--data", d};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = replay(args);
    EXPECT_EQ(r.status, 2) << c.args[0] << ": " << r.out;
    EXPECT_TRUE(r.says(c.says)) << "expected '" << c.says << "' in: " << r.out;
    EXPECT_TRUE(r.says("ledgerq-replay: ")) << r.out;
    EXPECT_TRUE(r.entries().empty()) << r.out;
  }
  EXPECT_EQ(slurp(data_ / "data.mdb"), before);
  EXPECT_EQ(replay({"--help"}).status, 0);
}

TEST_F(ReplayTest, MissingForeignAndNonStoreDirectoriesAreRefused) {
  const auto missing = dir_.path() / "nowhere";
  auto r = replay({"--data", missing.string()});
  EXPECT_EQ(r.status, 4) << r.out;
  EXPECT_TRUE(r.says("no such directory")) << r.out;
  EXPECT_FALSE(std::filesystem::exists(missing));
  EXPECT_EQ(replay({"--data", missing.string(), "--verify"}).status, 4);

  // A directory of someone else's files.
  const auto foreign = dir_.path() / "foreign";
  std::filesystem::create_directories(foreign);
  std::ofstream(foreign / "notes.txt") << "not a store\n";
  r = replay({"--data", foreign.string()});
  EXPECT_EQ(r.status, 4) << r.out;
  EXPECT_TRUE(r.says("no ledgerq store")) << r.out;
  // A data.mdb that is not LMDB's.
  std::ofstream(foreign / "data.mdb") << std::string(8192, 'x');
  r = replay({"--data", foreign.string(), "--verify"});
  EXPECT_EQ(r.status, 4) << r.out;
  EXPECT_TRUE(r.says("not an LMDB file")) << r.out;
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(foreign)) ++files;
  EXPECT_EQ(files, 2u);  // no lock file left behind
  EXPECT_EQ(slurp(foreign / "notes.txt"), "not a store\n");

  // A file where a directory should be.
  r = replay({"--data", (foreign / "notes.txt").string()});
  EXPECT_EQ(r.status, 4) << r.out;
  EXPECT_TRUE(r.says("not a directory")) << r.out;
}

TEST_F(ReplayTest, AStoreOfANewerFormatIsRefusedUnchanged) {
  start();
  traffic();
  stop();
  {
    storage::Env env(storage::EnvOptions{.dir = data_});
    auto txn = env.begin_write();
    txn.put(domain::Table::meta, "format", domain::be64(storage::kFormatVersion + 1));
    txn.commit();
  }
  const std::string before = slurp(data_ / "data.mdb");
  for (const auto& extra : {std::string("--verify"), std::string("--follow")}) {
    auto r = replay({"--data", data_.string(), extra});
    EXPECT_EQ(r.status, 4) << r.out;
    EXPECT_TRUE(r.says("format version " + std::to_string(storage::kFormatVersion + 1))) << r.out;
    EXPECT_TRUE(r.says("newer")) << r.out;
  }
  EXPECT_EQ(slurp(data_ / "data.mdb"), before);
}

}  // namespace
}  // namespace ledgerq

namespace ledgerq {
namespace {

// A damaged store is refused by the broker (exit 3) and by the tool (exit
// 6) before either maps it: no SIGBUS, and nothing written to it.
TEST_F(ReplayTest, ATruncatedOrEmptyStoreIsRefusedNotMappedNorRecreated) {
  start();
  traffic();
  for (int i = 0; i < 300; ++i)  // grow the store past its first pages
    peer_->ok<reply::Submit>(cmd::Submit{"images", "bulk-" + std::to_string(i), "a", text(std::string(20, 'x'))});
  stop();
  const auto file = data_ / "data.mdb";
  const auto full = std::filesystem::file_size(file);
  std::filesystem::resize_file(file, 3 * 4096);  // the metas and one page: its last page is further
  ASSERT_LT(3 * 4096u, full);
  const std::string cut = slurp(file);
  auto r = replay({"--data", data_.string(), "--verify"});
  EXPECT_EQ(r.status, 6) << r.out;
  EXPECT_TRUE(r.says("the store is truncated")) << r.out;
  auto [status, out] = tools::run_once(LEDGERQ_BROKER_PATH, {"--data", data_.string(), "--router", "tcp://127.0.0.1:*",
                                                             "--status-pub", "tcp://127.0.0.1:*", "--requests-pub",
                                                             "tcp://127.0.0.1:*"});
  EXPECT_EQ(status, 3) << out;
  EXPECT_NE(out.find("the store is truncated"), std::string::npos) << out;
  EXPECT_EQ(slurp(file), cut) << "nothing written";

  std::filesystem::resize_file(file, 0);
  std::tie(status, out) = tools::run_once(LEDGERQ_BROKER_PATH, {"--data", data_.string(), "--router",
                                                                "tcp://127.0.0.1:*", "--status-pub", "tcp://127.0.0.1:*",
                                                                "--requests-pub", "tcp://127.0.0.1:*"});
  EXPECT_EQ(status, 3) << out;
  EXPECT_NE(out.find("is empty (0 bytes)"), std::string::npos) << out;
  EXPECT_EQ(std::filesystem::file_size(file), 0u) << "not re-created as a new store";
  EXPECT_EQ(replay({"--data", data_.string()}).status, 6);
}

// A stored value that does not decode: the broker stops (exit 3) at the
// first command that reads it, and writes nothing after.
TEST_F(ReplayTest, ABrokerThatReadsAGarbledRecordStopsInsteadOfWritingOn) {
  start();
  traffic();
  stop();
  {
    storage::Env env(storage::EnvOptions{.dir = data_});
    auto txn = env.begin_write();
    const std::string key = domain::join("images", *txn.get(domain::Table::job_ids, domain::join("images", "j2")));
    txn.put(domain::Table::jobs, key, std::string("\xc1garbage", 8));
    txn.commit();
  }
  start();
  const std::string before = slurp(data_ / "data.mdb");
  peer_->send_frames({std::string(codec::kSignature),
                      codec::encode_request(Request{1, cmd::Status{"images", "j2", "b"}})});
  const int status = broker_->wait_exit();
  broker_.reset();
  EXPECT_EQ(status, 3);
  EXPECT_EQ(slurp(data_ / "data.mdb"), before) << "nothing written after";
}

}  // namespace
}  // namespace ledgerq
