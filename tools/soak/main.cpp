// ledgerq-soak: the crash-consistency check. It runs a real broker on a
// fresh data directory (`--sync full`, retention off so the log is whole),
// producers (threads, libclient Clients) and fenced workers (processes,
// libclient Workers: `ledgerq-soak worker`), and SIGKILLs the broker
// (restarted on the same data and endpoints) and workers (restarted fresh)
// at random moments. Then it stops the producers, lets the workers drain
// every job, stops everything and checks:
//
//  1. No acknowledged submit is lost. An id is acknowledged when a submit
//     of it was answered ok (a repeat of a timed-out submit answered as a
//     duplicate counts: the broker says it stored it). Every such id must
//     be in the store, looked up by a fresh Driver; and since nothing in
//     the soak fails or cancels a job, one that ended must have ended
//     complete. (Ids never answered are "unknown": reported, not checked.)
//  2. No success is accepted twice: across all worker logs, at most one
//     success ack per job was answered 200.
//  3. No stale ack is accepted. For every success ack answered 200 with
//     token T: the job is complete in the store with token T (its final
//     token: a completed job is never leased again), and no worker logged
//     a lease of that job under a token above T. And no (job, token) lease
//     was logged by two different worker processes (names): a token is
//     never handed out twice, even across broker crashes.
//  4. `ledgerq-replay --verify` on the stopped broker's data exits 0: the
//     view equals the fold of the log.
// Besides: the jobs must drain within --drain-timeout, the broker must
// never die unless killed and must exit 0 on SIGTERM, and no worker may die
// unless killed. Workers sometimes stall past their lease (--stall-percent)
// so that the broker's fencing has stale acks to refuse (a first send
// answered 409: "stale acks refused").
//
// Exit status: 0 all held; 1 the soak could not run; 2 bad flags; 10 check
// 1, 11 check 2, 12 check 3, 13 check 4, 14 not drained, 15 the broker died,
// would not restart, or did not stop cleanly, 16 a worker died (the lowest
// when several fail; each failure is printed). The data directory and every
// log are kept after a failure (and with --keep).
//
// A long run (~360,000 jobs at the default rate):
//   ledgerq-soak --duration 3600 --kill-broker-every 20 --kill-worker-every 5
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstring>
#include <filesystem>
#include <ledgerq/version.hpp>

#include "soak.hpp"

#ifndef LEDGERQ_DEFAULT_BROKER
#define LEDGERQ_DEFAULT_BROKER "ledgerq-broker"
#endif
#ifndef LEDGERQ_DEFAULT_REPLAY
#define LEDGERQ_DEFAULT_REPLAY "ledgerq-replay"
#endif

namespace {

using namespace ledgerq::soak;

// The build's own tool when it is there (the path CMake compiled in), else
// the one installed beside this executable.
std::string default_tool(const char* built, const char* name) {
  std::error_code ec;
  if (std::filesystem::exists(built, ec)) return built;
  return (std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() / name).string();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "worker") == 0) return worker_main(argc - 1, argv + 1);

  CLI::App app{"ledgerq-soak: SIGKILL the broker and workers under load, then check that nothing acknowledged "
               "was lost, no job succeeded twice, no stale ack was accepted, and the log folds into the view"};
  app.set_version_flag("--version", std::string("ledgerq-soak ") + LEDGERQ_VERSION);
  Options o;
  o.broker = default_tool(LEDGERQ_DEFAULT_BROKER, "ledgerq-broker");
  o.replay = default_tool(LEDGERQ_DEFAULT_REPLAY, "ledgerq-replay");
  std::string dir;
  app.add_option("--broker", o.broker, "The ledgerq-broker to soak")->capture_default_str();
  app.add_option("--replay", o.replay, "The ledgerq-replay that verifies the store")->capture_default_str();
  app.add_option("--dir", dir, "Work directory (data/ and logs), new or empty; default: a fresh temp dir");
  app.add_flag("--keep", o.keep, "Keep the work directory after a passing run (a failing one is always kept)");
  app.add_option("--duration", o.duration_s, "Seconds of production (default 10 unless --jobs is given)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--jobs", o.jobs, "Stop production after this many job ids (0: no limit)");
  app.add_option("--kill-broker-every", o.kill_broker_every_s, "Mean seconds between broker SIGKILLs (0: never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--kill-worker-every", o.kill_worker_every_s, "Mean seconds between worker SIGKILLs (0: never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--seed", o.seed, "Seed of every random choice (0: a random one, printed)");
  app.add_option("--producers", o.producers, "Producer threads")->check(CLI::Range(1, 64))->capture_default_str();
  app.add_option("--rate", o.rate, "Submits per second per producer at most (0: unpaced)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--workers", o.workers, "Worker processes")->check(CLI::Range(1, 64))->capture_default_str();
  app.add_option("--batch", o.batch, "Jobs per dequeue")->check(CLI::Range(1, 1000))->capture_default_str();
  app.add_option("--lease-ms", o.lease_ms, "The datasource's lease")
      ->check(CLI::Range(100, 3'600'000))
      ->capture_default_str();
  app.add_option("--work-ms", o.work_ms, "A job's work lasts 0..this")->capture_default_str();
  app.add_option("--stall-percent", o.stall_percent, "Jobs whose worker sleeps past the lease before acking")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  app.add_option("--timeout-ms", o.timeout_ms, "Request timeout of every client, driver and worker")
      ->check(CLI::Range(100, 600'000))
      ->capture_default_str();
  app.add_option("--sync", o.sync, "The broker's --sync")
      ->check(CLI::IsMember({"full", "meta", "none"}))
      ->capture_default_str();
  app.add_option("--drain-timeout", o.drain_timeout_s, "Longest wait for the workers to finish every job, seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int status = app.exit(e);
    return status == 0 ? kOk : kUsage;
  }
  o.dir = dir;
  try {
    return run_soak(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ledgerq-soak: %s\n", e.what());
    return kSetup;
  }
}
