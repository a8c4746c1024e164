// Keeps the LMDB map ahead of the store, so that a broker left running
// never meets MDB_MAP_FULL while the disk has room: the map doubles before
// a turn once 3/4 of it is in use, at once when a commit still meets
// MDB_MAP_FULL, never past --map-max nor the disk's free space; and the log
// says so well before the end: a warning when the store passes 80% of what
// the map can grow to, an error past 95%, a note when it falls back.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "storage/lmdb_env.hpp"

namespace ledgerq::transport {

class MapWatch {
 public:
  explicit MapWatch(storage::Env& env) : env_(env) {}

  /// Before a turn: grows the map if 3/4 of it is in use (calling `close`
  /// first, which must end every write transaction of the process), and
  /// checks the levels when the store grew by 1% of its limit since.
  void before_turn(const std::function<void()>& close);
  /// A commit met MDB_MAP_FULL (its transaction aborted, and no other is
  /// open): grows the map now. False when it cannot grow (at --map-max or
  /// the disk is full).
  bool after_map_full();
  /// Logs when the store crosses 80% or 95% of the limit, up or down.
  /// Cheap enough for every timer tick (a statvfs and LMDB's env info).
  void check();
  /// 0 below 80% of the limit, 1 from 80%, 2 from 95% (with hysteresis).
  int level() const { return level_; }

 private:
  void grew(const char* why);

  storage::Env& env_;
  int level_ = 0;
  std::uint64_t checked_used_ = 0, step_ = 0;  // at the last check(); 1% of its limit
  // "The store is full" once per kFullEvery at most, with the count of the
  // turns refused since: a full store meets MDB_MAP_FULL at every write.
  static constexpr auto kFullEvery = std::chrono::seconds(10);
  std::chrono::steady_clock::time_point full_logged_{};
  std::uint64_t full_unlogged_ = 0;
};

}  // namespace ledgerq::transport
