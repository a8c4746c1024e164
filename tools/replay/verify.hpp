// --verify: folds the whole log into a fresh view and compares it, table by
// table, with the broker's view in the same snapshot (domain/verify.hpp).
// A log trimmed by retention cannot reproduce the view; that is detected
// first and reported as such, not as a list of differences.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "codec/messages.hpp"
#include "domain/kv.hpp"

namespace ledgerq::replay {

enum class VerifyStatus {
  ok,           ///< the view equals the fold of the log
  differences,  ///< it does not (or the log does not fold)
  trimmed,      ///< the log lost its beginning to retention: nothing to compare
};

struct VerifyReport {
  VerifyStatus status = VerifyStatus::ok;
  std::uint64_t events = 0;        ///< log entries folded
  std::vector<std::string> lines;  ///< each difference, or why it cannot be verified
};

/// Verifies the store in `snapshot` (a read transaction of the broker's
/// environment). `progress` is called with the number of entries folded so
/// far. The fresh view is built in memory: it needs about as much memory as
/// the view takes on disk, a few times over. At most `max_diffs` lines.
VerifyReport verify_store(domain::Kv& snapshot, std::size_t max_diffs,
                          const std::function<void(std::uint64_t)>& progress);

}  // namespace ledgerq::replay
