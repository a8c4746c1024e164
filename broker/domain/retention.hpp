// The broker's timers as pure functions of (view, now): leases that ran
// out, finished jobs past their retention, log entries past the log's. Each
// runs in a bounded slice per call, so the loop never pauses for long; the
// transport calls tick() every turn and sooner when a deadline is due.
#pragma once

#include <cstdint>

#include "machine.hpp"

namespace ledgerq::domain {

struct Retention {
  Micros job_age = 0;            ///< finished jobs leave the view after this (0: never)
  std::uint64_t job_count = 0;   ///< at most this many finished jobs stay, oldest-finished leave (0: no limit)
  Micros log_age = 0;            ///< log entries older than this are trimmed (0: never)
  std::uint64_t log_bytes = 0;   ///< the log and its stored notices are trimmed to this size (0: no limit)
};

struct TickStats {
  std::uint64_t expired = 0;    ///< leases that ran out
  std::uint64_t collected = 0;  ///< finished jobs removed from the view
  std::uint64_t trimmed = 0;    ///< log entries removed
  std::uint64_t purges = 0;     ///< slices of deleted datasources removed
};

struct TickResult {
  std::vector<Notice> notices;
  TickStats stats;
  bool more = false;  ///< a slice was cut short: call again soon
};

/// One slice of timer work: at most `budget` items of each kind (and of
/// each datasource being deleted).
TickResult tick(View& view, Micros now, const Retention& r, std::size_t budget);

/// The log's size as the broker accounts it (entries and value bytes),
/// kept in meta by record() and tick().
struct LogSize {
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0;
  Micros first = 0;  ///< timestamp of the oldest entry kept (0: empty)
};
LogSize log_size(View& view);

}  // namespace ledgerq::domain
