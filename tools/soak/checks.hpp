// The end-of-run checks (their definitions are in main.cpp's header):
// the workers' logs read back, the store asked through a fresh Driver, and
// ledgerq-replay --verify run on the stopped broker's data directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "process.hpp"
#include "producer.hpp"

namespace ledgerq::soak {

/// One job as the workers' logs tell it.
struct JobTrail {
  std::uint64_t max_lease = 0;                 ///< the highest token any worker logged a lease under
  std::map<std::uint64_t, std::string> leased_by;  ///< token -> the log that leased it first
  std::vector<std::uint64_t> accepted;         ///< tokens of success acks answered 200
  std::vector<std::string> reused;             ///< "token T: log A and log B" for a token leased twice
};

/// Every worker log of a run, folded by job.
struct WorkerLogs {
  std::map<std::string, JobTrail> jobs;
  std::uint64_t leases = 0;          ///< LEASE lines
  std::uint64_t accepted = 0;        ///< ACK lines answered 200
  std::uint64_t stale_refused = 0;   ///< first sends of an ack answered 409
  std::uint64_t repeat_refused = 0;  ///< repeats answered 409 (the first may have been applied)
  std::uint64_t other_answers = 0;   ///< ACK lines with another code (printed)
  std::uint64_t failed_sends = 0;    ///< ACKFAIL lines: the ack command timed out or failed
  std::uint64_t unreadable = 0;      ///< lines that do not parse (one cut by a SIGKILL)
};

/// Reads every `worker-*.log` in `dir`.
WorkerLogs read_worker_logs(const std::filesystem::path& dir);

/// The figures of checks 1..3, and examples of what failed.
struct StoreReport {
  // 1: acknowledged submits
  std::uint64_t acked = 0, lost = 0, not_complete = 0, completed = 0;
  std::uint64_t unknown = 0, unknown_stored = 0;
  // 2: one success per job
  std::uint64_t double_success = 0;
  // 3: fencing
  std::uint64_t stale_accepted = 0;
  std::uint64_t token_reused = 0;
  std::uint64_t completed_unseen = 0;  ///< complete, but no worker logged its 200 (killed, or reply lost)
  std::vector<std::string> lost_examples, double_examples, stale_examples;
};

/// Checks 1..3 against the running broker at `endpoints`. Throws
/// std::runtime_error when the broker cannot be asked.
StoreReport check_store(const Endpoints& endpoints, std::uint32_t timeout_ms, const ProducerTally& producers,
                        const WorkerLogs& logs);

/// Runs `replay --data data --verify` to its end; returns its exit status
/// (or -signal) and leaves its output in `output`.
int run_verify(const std::string& replay, const std::filesystem::path& data, const std::filesystem::path& output);

}  // namespace ledgerq::soak
