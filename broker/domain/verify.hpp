// The view's invariant: it equals the fold of the log over an empty view.
// fold_log() rebuilds a view from a log; diff_views() says where two views
// differ. The storage tests and the replay tool's --verify use both.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "codec/result.hpp"
#include "kv.hpp"

namespace ledgerq::domain {

/// Applies every event of `source`'s log, in order, to the view in
/// `target` (which should start empty), and copies the log itself so the
/// two stores are comparable table by table. Returns the number of events,
/// or the first event that does not fold (with its timestamp).
Result<std::size_t> fold_log(Kv& source, Kv& target);

/// Every difference between the view tables of `a` and `b` (all tables
/// but the log), as readable lines; empty when they are equal. Stops after
/// `max_lines`.
std::vector<std::string> diff_views(Kv& a, Kv& b, std::size_t max_lines = 100);

}  // namespace ledgerq::domain
