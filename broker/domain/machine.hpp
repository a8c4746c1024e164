// The broker's state machine: (view, command, now) -> (reply, notices), and
// the fold of one log event into the view. Pure: no sockets, no clock reads,
// no LMDB types; every rule here is testable over MemKv in microseconds.
//
// Live path:   execute() validates a command, then record()s its events:
//              each gets the next log timestamp, is appended to the log and
//              applied to the view, in the caller's transaction.
// Replay path: apply() alone, over the events read back from the log.
#pragma once

#include <variant>
#include <vector>

#include "codec/messages.hpp"
#include "codec/result.hpp"
#include "view.hpp"

namespace ledgerq::domain {

/// A notification to publish once the transaction has committed:
/// StatusNotice on the client's status topic, RequestEntry on the
/// datasource's request topic.
using Notice = std::variant<StatusNotice, RequestEntry>;

struct Outcome {
  Result<ReplyBody> reply = ReplyBody{};
  std::vector<Notice> notices;
};

/// Runs one command against the view at wall-clock time `now`.
/// Expected refusals (not found, conflict, ...) are Error values in
/// `reply` and change nothing. Storage failures throw; the caller aborts
/// the transaction, so a half-applied command never commits.
Outcome execute(View& view, const Command& command, Micros now);

/// Folds one logged event into the view, as of log timestamp `ts`, and
/// returns what it announces. An event that does not fit the view (a submit
/// into a missing datasource, say) is an Error: the log and view disagree.
Result<std::vector<Notice>> apply(View& view, const Event& event, Micros ts);

}  // namespace ledgerq::domain
