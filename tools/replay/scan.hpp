// Printing the log: a scan from a time, in chunks of short read
// transactions, then (with follow) a poll for new entries. Each chunk is
// its own LMDB read snapshot, released before the next, so a reader that
// is paused (a pager, a full pipe) never pins the broker's old pages for
// long, and the broker's writer never waits for it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>

#include "filter.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "storage/lmdb_env.hpp"

namespace ledgerq::replay {

/// The ends of the log in one snapshot.
struct LogBounds {
  std::optional<Micros> first, last;  ///< nullopt: the log is empty
  std::optional<Event> first_event;   ///< decoded (nullopt if undecodable)
  /// Entries before `first` were removed by retention: an untrimmed log
  /// always starts with the ds_create that everything else depends on.
  bool trimmed() const { return first_event && first_event->type != EventType::ds_create; }
};
LogBounds log_bounds(domain::Kv& snapshot);

struct ScanOptions {
  Micros from = 0;                                       ///< inclusive
  Micros to = std::numeric_limits<Micros>::max();        ///< exclusive
  std::optional<std::uint64_t> count;                    ///< print at most this many
  bool follow = false;                                   ///< then wait for new entries
  std::optional<std::chrono::microseconds> follow_for;   ///< stop following after this
  std::chrono::milliseconds poll{150};                   ///< between polls when caught up
  std::size_t chunk = 2000;                              ///< entries per read transaction
};

struct ScanStats {
  std::uint64_t scanned = 0;      ///< entries read
  std::uint64_t printed = 0;      ///< entries that matched and were printed
  std::uint64_t undecodable = 0;  ///< entries whose value is not an event (reported on stderr)
};

/// Prints the entries of [from, to) that `match`es, in log order. Returns
/// when the range or the count is exhausted, or (following) when `stop` is
/// set, follow_for has passed, or the clock passes `to`.
ScanStats scan_log(storage::Env& env, const ScanOptions& o, Matcher& match, Printer& out, Progress& progress,
                   const std::atomic<bool>& stop);

}  // namespace ledgerq::replay
