// One soak run: the broker, the producers and the workers started, the
// kills, the drain, the checks (checks.cpp) and the report.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <ledgerq/ledgerq.hpp>
#include <random>
#include <thread>

#include "checks.hpp"
#include "process.hpp"
#include "producer.hpp"
#include "soak.hpp"

namespace ledgerq::soak {

namespace {

namespace lq = ledgerq::client;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Ctrl-C ends production early; the drain and the checks still run.
std::atomic<bool> g_interrupted{false};
extern "C" void on_interrupt(int) {
  g_interrupted.store(true);
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the soak at once
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A mean interval drawn into [mean/2, 3 mean/2]: kills come at random
// moments, yet a short run surely gets about duration/mean of them.
Clock::duration draw(std::mt19937_64& rng, double mean_s) {
  std::uniform_real_distribution<double> d(mean_s / 2, mean_s * 1.5);
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(d(rng)));
}

std::filesystem::path make_dir(const std::filesystem::path& asked) {
  if (!asked.empty()) {
    std::filesystem::create_directories(asked);
    if (!std::filesystem::is_empty(asked)) throw std::runtime_error(asked.string() + " is not empty");
    return asked;
  }
  std::string tmpl = (std::filesystem::temp_directory_path() / "ledgerq-soak-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

/// Everything that went wrong, by exit status.
struct Failures {
  std::map<int, std::vector<std::string>> by_status;
  void add(int status, std::string what) { by_status[status].push_back(std::move(what)); }
  [[nodiscard]] int exit_status() const { return by_status.empty() ? kOk : by_status.begin()->first; }
};

/// The soak's processes and the kills.
class Chaos {
 public:
  Chaos(const Options& o, const std::filesystem::path& dir, Failures& failures)
      : o_(o),
        dir_(dir),
        failures_(failures),
        broker_(o.broker, dir / "data", dir,
                // Retention off: a collected job would read as lost, a
                // trimmed log cannot be verified.
                {"--sync", o.sync, "--job-retention", "0", "--job-retention-count", "0", "--log-retention", "0",
                 "--log-max-size", "0", "--log-level", "warn"}),
        rng_(o.seed) {
    self_ = std::filesystem::read_symlink("/proc/self/exe").string();
  }

  /// The first start; throws StartError.
  void start_broker() { broker_.start(60s); }
  const Endpoints& endpoints() const { return broker_.endpoints(); }

  void start_workers() {
    slots_.resize(static_cast<std::size_t>(o_.workers));
    for (std::size_t s = 0; s < slots_.size(); ++s) spawn(s);
  }

  /// Restarts whatever died by itself, counting it as a failure. False
  /// when the broker cannot be started again (the run must stop).
  bool supervise() {
    if (auto s = broker_.poll()) {
      failures_.add(kBrokerDied, "the broker " + describe_status(*s) + " on its own; its log: " +
                                     broker_.log_path().string() + "\n" + tail_of(broker_.log_path()));
      if (!restart_broker()) return false;
    }
    for (std::size_t i = 0; i < slots_.size(); ++i)
      if (auto s = slots_[i].child.poll()) {
        failures_.add(kWorkerDied, "worker " + std::to_string(i) + " " + describe_status(*s) +
                                       " on its own; its output: " + output_of(i).string() + "\n" +
                                       tail_of(output_of(i)));
        spawn(i);
      }
    return true;
  }

  /// Kills what is due. False when the broker cannot be started again.
  bool maybe_kill() {
    const auto now = Clock::now();
    if (o_.kill_broker_every_s > 0 && now >= next_broker_kill_) {
      broker_.kill9();
      ++broker_kills;
      // Sometimes at once, sometimes after a pause: clients time out, and
      // requests pile up in their sockets for the new broker.
      std::this_thread::sleep_for(std::chrono::milliseconds(rng_() % 400));
      if (!restart_broker()) return false;
      next_broker_kill_ = Clock::now() + draw(rng_, o_.kill_broker_every_s);
    }
    if (o_.kill_worker_every_s > 0 && now >= next_worker_kill_) {
      const std::size_t i = rng_() % slots_.size();
      slots_[i].child.kill9();
      ++worker_kills;
      spawn(i);
      next_worker_kill_ = Clock::now() + draw(rng_, o_.kill_worker_every_s);
    }
    return true;
  }

  void schedule_kills() {
    if (o_.kill_broker_every_s > 0) next_broker_kill_ = Clock::now() + draw(rng_, o_.kill_broker_every_s);
    if (o_.kill_worker_every_s > 0) next_worker_kill_ = Clock::now() + draw(rng_, o_.kill_worker_every_s);
  }

  /// SIGTERM to every worker; one that does not exit 0 is a failure.
  void stop_workers() {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      const int s = slots_[i].child.terminate(30s);
      if (s != 0)
        failures_.add(kWorkerDied, "worker " + std::to_string(i) + " " + describe_status(s) +
                                       " at SIGTERM; its output: " + output_of(i).string() + "\n" +
                                       tail_of(output_of(i)));
    }
  }

  /// SIGTERM to the broker; it must exit 0. Sent once the broker is idle
  /// (every client gone a moment ago): a signal that lands inside one of
  /// its zmq calls other than the poll ends it with exit 2, "cannot bind:
  /// Interrupted system call" (a broker bug, reported); the soak checks
  /// crashes, not that race.
  void stop_broker() {
    std::this_thread::sleep_for(1s);
    const int s = broker_.terminate();
    if (s != 0)
      failures_.add(kBrokerDied, "the broker " + describe_status(s) + " at SIGTERM; its log: " +
                                     broker_.log_path().string() + "\n" + tail_of(broker_.log_path()));
  }

  int broker_kills = 0, worker_kills = 0;

 private:
  struct Slot {
    Child child;
    int incarnation = 0;
  };

  std::filesystem::path output_of(std::size_t i) const {
    return dir_ / ("worker-" + std::to_string(i) + "-" + std::to_string(slots_[i].incarnation) + ".out");
  }

  void spawn(std::size_t i) {
    auto& slot = slots_[i];
    ++slot.incarnation;
    const std::string tag = std::to_string(i) + "-" + std::to_string(slot.incarnation);
    // Each incarnation has a name and a log of its own: a restarted worker
    // is another worker, so a token logged by two logs was leased twice.
    slot.child = Child({self_, "worker", "--router", broker_.endpoints().router, "--name", "soak-w" + tag, "--log",
                        (dir_ / ("worker-" + tag + ".log")).string(), "--seed",
                        std::to_string(o_.seed * 1000003 + i * 1009 + static_cast<std::size_t>(slot.incarnation)),
                        "--batch", std::to_string(o_.batch), "--work-ms", std::to_string(o_.work_ms), "--lease-ms",
                        std::to_string(o_.lease_ms), "--stall-percent", std::to_string(o_.stall_percent),
                        "--timeout-ms", std::to_string(o_.timeout_ms)},
                       output_of(i));
  }

  // The same data, the same ports. A port another process took meanwhile
  // makes the start fail (exit 2): tried again for a while. A damaged store
  // (exit 3) or a broker that keeps failing is the end of the run.
  bool restart_broker() {
    const auto until = Clock::now() + 60s;
    for (;;) {
      try {
        broker_.start(60s);
        return true;
      } catch (const StartError& e) {
        if (e.exit_status == 3 || Clock::now() >= until) {
          failures_.add(kBrokerDied, std::string("the broker would not start again: ") + e.what());
          return false;
        }
        std::fprintf(stderr, "ledgerq-soak: restart failed, trying again: %s\n", e.what());
        std::this_thread::sleep_for(500ms);
      }
    }
  }

  const Options& o_;
  std::filesystem::path dir_;
  Failures& failures_;
  Broker broker_;
  std::mt19937_64 rng_;
  std::string self_;
  std::vector<Slot> slots_;
  Clock::time_point next_broker_kill_ = Clock::time_point::max();
  Clock::time_point next_worker_kill_ = Clock::time_point::max();
};

lq::Driver make_driver(const Endpoints& ep, std::uint32_t timeout_ms) {
  lq::DriverOptions d;
  d.router = ep.router;
  d.requests_pub = ep.requests_pub;
  d.timeout = std::chrono::milliseconds(timeout_ms);
  return lq::Driver(d);
}

// Jobs not yet ended: waiting or held. nullopt when the broker did not answer.
std::optional<std::uint64_t> live_jobs(lq::Driver& d) {
  try {
    std::uint64_t n = 0;
    for (auto s : {lq::JobStatus::submitted, lq::JobStatus::retrying, lq::JobStatus::accepted})
      n += d.count(kDatasource, s).count;
    return n;
  } catch (const lq::Error&) {
    return std::nullopt;
  }
}

}  // namespace

int run_soak(Options o) {
  if (o.seed == 0) o.seed = std::random_device{}() | 1u;
  if (o.duration_s == 0 && o.jobs == 0) o.duration_s = 10;
  const auto dir = make_dir(o.dir);
  std::printf("ledgerq-soak: seed %llu, work dir %s, broker %s\n", static_cast<unsigned long long>(o.seed),
              dir.c_str(), o.broker.c_str());
  std::fflush(stdout);
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGPIPE, SIG_IGN);

  Failures failures;
  Chaos chaos(o, dir, failures);
  try {
    chaos.start_broker();
  } catch (const StartError& e) {
    std::fprintf(stderr, "ledgerq-soak: %s\n", e.what());
    return kSetup;
  }
  const Endpoints ep = chaos.endpoints();
  {
    auto d = make_driver(ep, 10'000);
    lq::DatasourceOptions dso;
    dso.lease = std::chrono::milliseconds(o.lease_ms);
    (void)d.create_datasource(kDatasource, dso);
  }

  const auto t0 = Clock::now();
  chaos.start_workers();
  Producers producers(o, ep);
  chaos.schedule_kills();
  const auto production_end =
      o.duration_s > 0 ? t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration_s))
                       : Clock::time_point::max();
  bool alive = true;
  while (alive && !producers.finished() && Clock::now() < production_end && !g_interrupted) {
    alive = chaos.supervise() && chaos.maybe_kill();
    std::this_thread::sleep_for(20ms);
  }
  producers.stop();
  const auto& tally = producers.tally();
  std::printf("production: %.1f s, %zu submits acknowledged (%llu after a repeat), %zu unknown, %llu timeouts, "
              "%d broker kills, %d worker kills\n",
              seconds_since(t0), tally.acked.size(), static_cast<unsigned long long>(tally.by_repeat),
              tally.unknown.size(), static_cast<unsigned long long>(tally.timeouts), chaos.broker_kills,
              chaos.worker_kills);
  std::fflush(stdout);
  // Every failure, the summary line, and the work directory kept or not.
  auto conclude = [&](std::uint64_t completed, std::uint64_t stale_refused) {
    for (const auto& [status, list] : failures.by_status)
      for (const auto& f : list) std::printf("FAILED (%d): %s\n", status, f.c_str());
    const int status = failures.exit_status();
    std::printf("ledgerq-soak: %s acked=%zu completed=%llu broker_kills=%d worker_kills=%d stale_refused=%llu "
                "duration=%.1fs seed=%llu\n",
                status == kOk ? "PASS" : "FAIL", tally.acked.size(), static_cast<unsigned long long>(completed),
                chaos.broker_kills, chaos.worker_kills, static_cast<unsigned long long>(stale_refused),
                seconds_since(t0), static_cast<unsigned long long>(o.seed));
    if (status == kOk && o.dir.empty() && !o.keep) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    } else {
      std::printf("ledgerq-soak: kept %s\n", dir.c_str());
    }
    return status;
  };
  if (!alive) return conclude(0, 0);  // the broker would not start again: nothing to check

  // The drain: no more kills; the workers finish every job.
  const auto drain_start = Clock::now();
  const auto drain_until =
      drain_start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.drain_timeout_s));
  std::optional<std::uint64_t> live;
  {
    auto d = make_driver(ep, o.timeout_ms);
    while (alive && Clock::now() < drain_until) {
      alive = chaos.supervise();
      live = live_jobs(d);
      if (live && *live == 0) break;
      std::this_thread::sleep_for(200ms);
    }
  }
  std::printf("drain: %.1f s, %s jobs left\n", seconds_since(drain_start),
              live ? std::to_string(*live).c_str() : "unknown");
  if (!alive) return conclude(0, 0);
  if (!live || *live > 0)
    failures.add(kUndrained, (live ? std::to_string(*live) : std::string("an unknown number of")) +
                                 " jobs still waiting or held after --drain-timeout");
  chaos.stop_workers();

  // Checks 1..3 against the live broker, then 4 on its stopped store.
  const WorkerLogs logs = read_worker_logs(dir);
  StoreReport r;
  std::uint64_t complete_in_store = 0;
  try {
    r = check_store(ep, o.timeout_ms, tally, logs);
    auto d = make_driver(ep, 10'000);
    complete_in_store = d.count(kDatasource, lq::JobStatus::complete).count;
  } catch (const std::exception& e) {
    failures.add(kBrokerDied, std::string("the broker did not answer the checks: ") + e.what());
  }
  chaos.stop_broker();
  const int verify = run_verify(o.replay, dir / "data", dir / "verify.out");

  std::printf("check 1, acknowledged submits: %llu acknowledged, %llu complete, %llu lost, %llu ended otherwise; "
              "%llu unknown (%llu stored)\n",
              static_cast<unsigned long long>(r.acked), static_cast<unsigned long long>(r.completed),
              static_cast<unsigned long long>(r.lost), static_cast<unsigned long long>(r.not_complete),
              static_cast<unsigned long long>(r.unknown), static_cast<unsigned long long>(r.unknown_stored));
  std::printf("check 2, one success per job: %llu leases, %llu successes accepted, %llu jobs accepted twice\n",
              static_cast<unsigned long long>(logs.leases), static_cast<unsigned long long>(logs.accepted),
              static_cast<unsigned long long>(r.double_success));
  std::printf("check 3, fencing: %llu stale acks refused, %llu repeats refused, %llu ack sends failed, "
              "%llu stale acks accepted, %llu tokens leased twice (%llu completions whose 200 no log holds)\n",
              static_cast<unsigned long long>(logs.stale_refused), static_cast<unsigned long long>(logs.repeat_refused),
              static_cast<unsigned long long>(logs.failed_sends), static_cast<unsigned long long>(r.stale_accepted),
              static_cast<unsigned long long>(r.token_reused), static_cast<unsigned long long>(r.completed_unseen));
  std::printf("check 4, ledgerq-replay --verify: %s\n", describe_status(verify).c_str());
  if (logs.unreadable > 0 || logs.other_answers > 0)
    std::printf("note: %llu worker log lines unreadable (cut by a SIGKILL), %llu other ack answers\n",
                static_cast<unsigned long long>(logs.unreadable), static_cast<unsigned long long>(logs.other_answers));

  if (r.lost + r.not_complete > 0) failures.add(kLostSubmit, "acknowledged submits lost or not complete");
  for (const auto& e : r.lost_examples) failures.add(kLostSubmit, e);
  if (r.double_success > 0) failures.add(kDoubleSuccess, "jobs whose success was accepted twice");
  for (const auto& e : r.double_examples) failures.add(kDoubleSuccess, e);
  if (r.stale_accepted + r.token_reused > 0) failures.add(kStaleAccepted, "stale acks accepted or tokens reused");
  for (const auto& e : r.stale_examples) failures.add(kStaleAccepted, e);
  if (verify != 0)
    failures.add(kVerifyFailed, "ledgerq-replay --verify " + describe_status(verify) + ":\n" +
                                    tail_of(dir / "verify.out"));
  return conclude(complete_in_store, logs.stale_refused);
}

}  // namespace ledgerq::soak
