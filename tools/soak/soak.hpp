// ledgerq-soak's shared vocabulary: its options, its exit statuses, and the
// entry points of its parts (main.cpp says what the tool checks and why).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace ledgerq::soak {

/// Exit statuses. When several checks fail, the lowest of 10..16 is the
/// exit status; every failure is printed.
enum Exit : int {
  kOk = 0,
  kSetup = 1,           ///< the soak itself could not run (no broker, fork failed, ...)
  kUsage = 2,           ///< bad flags
  kLostSubmit = 10,     ///< check 1: an acknowledged submit is missing, or ended other than complete
  kDoubleSuccess = 11,  ///< check 2: two success acks of one job were answered 200
  kStaleAccepted = 12,  ///< check 3: a success ack was accepted under a token that is not the job's last
  kVerifyFailed = 13,   ///< check 4: ledgerq-replay --verify did not exit 0
  kUndrained = 14,      ///< jobs were still waiting or held when the drain's time ran out
  kBrokerDied = 15,     ///< the broker exited without being killed, would not restart, or
                        ///< did not exit 0 on SIGTERM
  kWorkerDied = 16,     ///< a worker process exited without being killed (libclient or this tool)
};

/// Every knob of a run. Times in the units their names say.
struct Options {
  std::string broker;          ///< ledgerq-broker executable
  std::string replay;          ///< ledgerq-replay executable
  std::filesystem::path dir;   ///< where data/ and the logs go; empty: a fresh temp dir
  bool keep = false;           ///< keep `dir` after a passing run (a failing run always keeps it)

  double duration_s = 0;       ///< production stops after this long (0: only --jobs bounds it)
  std::uint64_t jobs = 0;      ///< production stops after this many job ids (0: only --duration)
  double kill_broker_every_s = 5;  ///< mean time between broker SIGKILLs (0: never)
  double kill_worker_every_s = 2;  ///< mean time between worker SIGKILLs (0: never)
  std::uint64_t seed = 0;      ///< 0: drawn at random (and printed, to repeat a run's choices)

  int producers = 2;           ///< producer threads, one Client each
  double rate = 50;            ///< submits per second per producer at most (0: as fast as acked)
  int workers = 3;             ///< worker processes
  std::uint32_t batch = 2;     ///< jobs per dequeue
  std::uint32_t lease_ms = 2000;   ///< the datasource's lease
  std::uint32_t work_ms = 10;      ///< a job's "work": uniform in 0..work_ms
  double stall_percent = 0.5;  ///< jobs whose worker sleeps past the lease before acking (costly: lease + 0.5 s each)
  std::uint32_t timeout_ms = 2000; ///< request timeout of every client, driver and worker
  std::string sync = "full";   ///< the broker's --sync
  double drain_timeout_s = 120;    ///< the longest the final drain may take
};

/// The datasource every run uses (the data directory is fresh).
inline constexpr const char* kDatasource = "soak";

/// The soak itself (run.cpp): returns the exit status. Throws
/// std::exception when it cannot even start (then: kSetup).
int run_soak(Options options);

/// The worker role: a separate process (`ledgerq-soak worker ...`) that
/// dequeues, works, acks and logs. Returns its exit status.
int worker_main(int argc, char** argv);

}  // namespace ledgerq::soak
