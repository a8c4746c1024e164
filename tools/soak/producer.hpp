// Producers: threads that submit jobs with fresh ids through libclient's
// Client and record which ids the broker acknowledged. An id is recorded
// as acknowledged only once a submit of it was answered ok (a repeat
// answered `duplicate` counts: the broker says the job is stored). A submit
// that timed out is sent again with the same id and body until it is
// answered or the producers are stopped; an id still unanswered then is
// "unknown": it may or may not be stored.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "process.hpp"
#include "soak.hpp"

namespace ledgerq::soak {

/// What the producers saw. Filled by their threads; read after stop().
struct ProducerTally {
  std::vector<std::string> acked;    ///< ids whose submit was answered ok
  std::vector<std::string> unknown;  ///< ids whose submit was never answered
  std::uint64_t by_repeat = 0;       ///< acked only by a repeat (the first send timed out)
  std::uint64_t timeouts = 0;        ///< submits that timed out (each one retried)
  std::uint64_t refused = 0;         ///< submits answered with a non-retryable code (printed)
};

class Producers {
 public:
  /// Starts `options.producers` threads against `endpoints`. They stop
  /// after `options.jobs` ids in all (when set) or at stop().
  Producers(const Options& options, Endpoints endpoints);
  ~Producers();  ///< stop()s
  Producers(const Producers&) = delete;
  Producers& operator=(const Producers&) = delete;

  /// True once every thread has ended by itself (the job budget is spent).
  [[nodiscard]] bool finished() const { return running_.load() == 0; }
  /// Asks the threads to stop and joins them; a submit in flight is given
  /// up after its timeout (its id becomes unknown). Idempotent.
  void stop();
  /// The tally; call after stop().
  [[nodiscard]] const ProducerTally& tally() const { return tally_; }

 private:
  void run(int index, std::uint64_t seed);

  Options options_;
  Endpoints endpoints_;
  std::atomic<bool> stop_{false};
  std::atomic<int> running_{0};
  std::atomic<std::uint64_t> next_id_{0};
  std::mutex mutex_;  ///< guards tally_ while the threads run
  ProducerTally tally_;
  std::vector<std::thread> threads_;
};

}  // namespace ledgerq::soak
