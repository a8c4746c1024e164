// Several worker processes pull from one datasource while one is killed
// mid-job and another is frozen past its lease: every job completes exactly
// once, the killed worker's job comes back after its lease, and the frozen
// worker's late ack is refused by its stale fencing token.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "broker_process.hpp"
#include "raw_peer.hpp"

namespace ledgerq {
namespace {

using namespace std::chrono_literals;
using testing::BrokerProcess;
using testing::ChildProcess;
using testing::RawPeer;

struct LogLine {
  std::string kind, job;
  std::uint64_t token = 0;
  unsigned code = 0;
};

std::vector<LogLine> read_log(const std::filesystem::path& p) {
  std::vector<LogLine> out;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    LogLine l;
    s >> l.kind >> l.job >> l.token >> l.code;
    if (l.kind == "LEASE" || l.kind == "ACK") out.push_back(l);
  }
  return out;
}

// Waits (bounded) until the worker's log ends with a lease it has not acked.
std::optional<LogLine> wait_mid_job(const std::filesystem::path& log) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto lines = read_log(log);
    if (!lines.empty() && lines.back().kind == "LEASE") return lines.back();
    std::this_thread::sleep_for(1ms);
  }
  return std::nullopt;
}

StatusRecord status_of(RawPeer& peer, const std::string& job) {
  auto jobs = peer.ok<reply::Lookup>(cmd::Lookup{"work", {job}, false}).jobs;
  if (jobs.empty()) throw std::runtime_error("job vanished: " + job);
  return jobs[0].state;
}

TEST(Workers, KilledAndFrozenWorkersLoseNothingAndNeverShareAJob) {
  testing::TempDir dir;
  BrokerProcess broker(dir.path() / "data");
  zmq::context_t ctx{1};
  RawPeer peer(ctx, broker.router());
  peer.ok<reply::DsCreate>(cmd::DsCreate{"work", std::nullopt});
  constexpr int kJobs = 200;
  for (int i = 0; i < kJobs; ++i) {
    std::string b(1, static_cast<char>(0xa0 | 1));
    b += "x";
    peer.ok<reply::Submit>(cmd::Submit{"work", "j" + std::to_string(i), "c", Any{b}, std::nullopt});
  }

  std::vector<std::unique_ptr<ChildProcess>> workers;
  std::vector<std::filesystem::path> logs;
  for (int w = 0; w < 4; ++w) {
    logs.push_back(dir.path() / ("w" + std::to_string(w) + ".log"));
    std::vector<std::string> args{LEDGERQ_TEST_WORKER_PATH, broker.router(), "work", "w" + std::to_string(w),
                                  logs.back().string(), "15", "800"};
    // w0 and w1 hold their first job for 3 s: the kill and the freeze land
    // while they hold it, however late this process gets to run.
    if (w < 2) args.push_back("3000");
    workers.push_back(std::make_unique<ChildProcess>(args));
  }

  // Kill w0 in the middle of a job.
  auto killed = wait_mid_job(logs[0]);
  ASSERT_TRUE(killed) << "w0 never held a job";
  workers[0]->kill9();

  // Freeze w1 in the middle of a job until someone else holds it.
  auto frozen = wait_mid_job(logs[1]);
  ASSERT_TRUE(frozen) << "w1 never held a job";
  workers[1]->signal(SIGSTOP);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (status_of(peer, frozen->job).token == frozen->token && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  ASSERT_GT(status_of(peer, frozen->job).token, frozen->token) << "the frozen job was never leased again";
  workers[1]->signal(SIGCONT);

  // Everything completes.
  while (peer.ok<reply::Count>(cmd::Count{"work", JobStatus::complete, std::nullopt, ""}).count < kJobs &&
         std::chrono::steady_clock::now() < deadline + 30s)
    std::this_thread::sleep_for(20ms);
  ASSERT_EQ(peer.ok<reply::Count>(cmd::Count{"work", JobStatus::complete, std::nullopt, ""}).count,
            static_cast<std::uint64_t>(kJobs));
  // Give the thawed worker a moment to send its late ack, then stop all.
  const auto thaw_deadline = std::chrono::steady_clock::now() + 10s;
  auto frozen_acked = [&] {
    for (const auto& l : read_log(logs[1]))
      if (l.kind == "ACK" && l.job == frozen->job && l.token == frozen->token) return true;
    return false;
  };
  while (!frozen_acked() && std::chrono::steady_clock::now() < thaw_deadline) std::this_thread::sleep_for(10ms);
  for (auto& w : workers) w.reset();

  // Exactly one accepted outcome per job, across all workers' logs.
  std::map<std::string, int> accepted;
  std::map<std::string, std::string> by;
  int refused = 0;
  for (int w = 0; w < 4; ++w) {
    for (const auto& l : read_log(logs[w])) {
      if (l.kind != "ACK") continue;
      if (l.code == 200) {
        ++accepted[l.job];
        by[l.job] = "w" + std::to_string(w);
      } else {
        EXPECT_EQ(l.code, 409u) << l.job;
        ++refused;
      }
    }
  }
  EXPECT_EQ(accepted.size(), static_cast<std::size_t>(kJobs));
  for (const auto& [job, n] : accepted) EXPECT_EQ(n, 1) << job << " completed more than once";
  // The frozen worker's ack came too late and was refused.
  bool frozen_refused = false;
  for (const auto& l : read_log(logs[1]))
    frozen_refused |= l.kind == "ACK" && l.job == frozen->job && l.token == frozen->token && l.code == 409;
  EXPECT_TRUE(frozen_refused);
  EXPECT_GE(refused, 1);
  // The killed worker's job came back after its lease and another finished it.
  auto k = status_of(peer, killed->job);
  EXPECT_EQ(k.status, JobStatus::complete);
  EXPECT_GT(k.token, killed->token);
  EXPECT_NE(by[killed->job], "w0");
  EXPECT_GE(k.attempts_made, 2u);
}

}  // namespace
}  // namespace ledgerq
