// The journal's flush, off the loop's thread. With SyncMode::full a turn
// appends its record to the journal, and its replies wait for the record's
// fdatasync (Store::flush). The loop asks this thread for it and goes on
// with the next turn, holding the turn's replies and notices until it is
// done: a reply still means durable, and the loop spends no time waiting.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>


namespace ledgerq::transport {

/// Logs a storage failure nobody can recover from and ends the process.
[[noreturn]] void die_of_storage(const std::exception& e);
/// The store does not read back (a stored value that does not decode,
/// MDB_CORRUPTED): logs it and exits with status 3 at once, before anything
/// more is written to it or acknowledged.
[[noreturn]] void die_of_corruption(const std::exception& e);

class Syncer {
 public:
  /// Starts the thread, which calls `flush` when asked. A flush that
  /// throws ends the process (die_of_storage).
  explicit Syncer(std::function<void()> flush);
  /// Finishes the sync asked for, if any, and joins.
  ~Syncer();
  Syncer(const Syncer&) = delete;
  Syncer& operator=(const Syncer&) = delete;

  /// Asks for a flush covering every record appended before this call, numbered
  /// `generation` (increasing from 1).
  void request(std::uint64_t generation);
  /// Every generation up to this one is durable.
  std::uint64_t durable() const { return durable_.load(std::memory_order_acquire); }
  /// How long the last sync took, microseconds.
  std::uint64_t last_sync_us() const { return last_us_.load(std::memory_order_relaxed); }
  /// An eventfd, readable once durable() has moved; clear() it after.
  int fd() const { return event_fd_; }
  void clear();

 private:
  void run();

  std::function<void()> flush_;
  int event_fd_ = -1;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::uint64_t requested_ = 0;  // guarded by mutex_
  bool stop_ = false;            // guarded by mutex_
  std::atomic<std::uint64_t> durable_{0};
  std::atomic<std::uint64_t> last_us_{0};
  std::thread thread_;
};

}  // namespace ledgerq::transport
