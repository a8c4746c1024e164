// The worker role: `ledgerq-soak worker ...`, a process of its own so that
// the soak can SIGKILL it mid-job. It dequeues with libclient's Worker,
// "works" a little, acks success with the lease's token, and writes every
// lease and every answer to its log, flushed line by line (a SIGKILL loses
// at most the line being written, never a line already written):
//
//   LEASE <job> <token>
//   ACK <job> <token> <code> <attempt>     the broker's code for the ack item
//   ACKFAIL <job> <token> <code> <attempt> the whole ack command failed (timeout, ...)
//   ACKLOCAL <job> <token> <code> 0        libclient refused it without asking (a bug here)
//
// <attempt> is 0 for the first send of an ack and n for its n-th repeat
// after a failure: a repeat answered 409 may only mean that the first send
// was applied, so only first sends count as stale acks refused.
//
// The Worker is told not to watch cancels nor check its leases: it must
// send the acks of leases it lost, so that the broker's fencing (not
// libclient's bookkeeping) is what refuses them.
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ledgerq/ledgerq.hpp>
#include <random>
#include <thread>

#include "soak.hpp"

namespace ledgerq::soak {

namespace {

namespace lq = ledgerq::client;
using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};
extern "C" void on_term(int) { g_stop.store(true); }

// Sleeps `d`, cut short by SIGTERM (the ack still goes: a clean stop
// finishes the job in hand).
void nap(std::chrono::milliseconds d) {
  const auto until = Clock::now() + d;
  while (!g_stop && Clock::now() < until)
    std::this_thread::sleep_for(std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(20)));
}

class Log {
 public:
  explicit Log(const std::string& path) : f_(std::fopen(path.c_str(), "a")) {
    if (!f_) throw std::runtime_error("cannot open " + path);
  }
  ~Log() { std::fclose(f_); }
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;
  void line(const char* kind, const std::string& job, std::uint64_t token, int code = -1, int attempt = -1) {
    if (code < 0)
      std::fprintf(f_, "%s %s %llu\n", kind, job.c_str(), static_cast<unsigned long long>(token));
    else
      std::fprintf(f_, "%s %s %llu %d %d\n", kind, job.c_str(), static_cast<unsigned long long>(token), code,
                   attempt);
    std::fflush(f_);
  }

 private:
  std::FILE* f_;
};

// Acks one job with its lease's token; repeats the ack while the whole
// command fails (the broker is being restarted), so every ack ends with
// the broker's answer in the log, unless this process is killed first.
void ack(lq::Worker& w, Log& log, const lq::LeasedJob& job) {
  try {
    w.ack_success_later(job.job, lq::Payload::from_text(w.name()));
  } catch (const lq::Error& e) {
    // Not held as far as libclient knows: cannot happen with its checks
    // off; logged so that it is seen, not taken as the broker's answer.
    log.line("ACKLOCAL", job.job, job.token, static_cast<int>(e.code()), 0);
    return;
  }
  for (int attempt = 0;; ++attempt) {
    try {
      for (const auto& r : w.flush_acks()) log.line("ACK", r.job, job.token, static_cast<int>(r.code), attempt);
      return;
    } catch (const lq::Error& e) {
      log.line("ACKFAIL", job.job, job.token, static_cast<int>(e.code()), attempt);
      // At a clean stop the broker is up; still, never hang on one ack.
      if (g_stop && attempt >= 5) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

}  // namespace

int worker_main(int argc, char** argv) {
  CLI::App app{"ledgerq-soak's worker role (started by ledgerq-soak itself)"};
  std::string router, name, log_path;
  std::uint64_t seed = 1;
  std::uint32_t batch = 1, work_ms = 10, lease_ms = 2000, timeout_ms = 2000;
  double stall_percent = 0;
  app.add_option("--router", router)->required();
  app.add_option("--name", name)->required();
  app.add_option("--log", log_path)->required();
  app.add_option("--seed", seed);
  app.add_option("--batch", batch);
  app.add_option("--work-ms", work_ms);
  app.add_option("--lease-ms", lease_ms, "the datasource's lease: a stall outlasts it");
  app.add_option("--stall-percent", stall_percent);
  app.add_option("--timeout-ms", timeout_ms);
  CLI11_PARSE(app, argc, argv);

  std::signal(SIGTERM, on_term);
  std::signal(SIGINT, on_term);
  Log log(log_path);
  lq::WorkerOptions o;
  o.router = router;
  o.name = name;
  o.timeout = std::chrono::milliseconds(timeout_ms);
  o.watch_cancels = false;
  o.cancel_check_interval = std::chrono::milliseconds(0);
  lq::Worker w(kDatasource, o);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> percent(0, 100);

  while (!g_stop) {
    std::vector<lq::LeasedJob> jobs;
    try {
      jobs = w.dequeue(batch, std::chrono::milliseconds(500));
    } catch (const lq::Error& e) {
      // Timeouts while the broker restarts; anything else is printed (it
      // lands in this worker's .out file) and tried again.
      if (!e.retryable()) std::fprintf(stderr, "dequeue: %s\n", e.what());
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    for (const auto& job : jobs) log.line("LEASE", job.job, job.token);
    for (const auto& job : jobs) {
      // A stall outlasts the lease: the job is leased again (or expires),
      // and this worker's late ack must then be refused by its token.
      const bool stall = percent(rng) < stall_percent;
      nap(std::chrono::milliseconds(stall ? lease_ms + 500 : rng() % (work_ms + 1)));
      ack(w, log, job);
    }
  }
  return 0;
}

}  // namespace ledgerq::soak
