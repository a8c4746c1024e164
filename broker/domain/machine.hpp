// The broker's state machine: (view, command, now) -> (reply, notices), and
// the fold of one log event into the view. Pure: no sockets, no clock reads,
// no LMDB types; every rule here is testable over MemKv in microseconds.
//
// Live path:   execute() validates a command, then records its events:
//              each gets the next log timestamp, is appended to the log and
//              applied to the view, in the caller's transaction.
// Replay path: apply() alone, over the events read back from the log.
// Timers:      tick() expires leases and retires old jobs and log entries,
//              in bounded slices (retention.cpp).
#pragma once

#include <deque>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "codec/messages.hpp"
#include "access.hpp"
#include "codec/result.hpp"
#include "view.hpp"

namespace ledgerq::domain {

/// A notification to publish once the transaction has committed:
/// StatusNotice on the client's status topic, RequestEntry on the
/// datasource's request topic.
using Notice = std::variant<StatusNotice, RequestEntry>;

/// Entries a ds_delete removes in its own turn (a purge slice); the timers
/// remove the rest of a larger datasource in slices of their budget.
inline constexpr std::uint32_t kPurgeSlice = 1000;

/// A token bucket for one datasource's dequeue rate.
struct Throttle {
  double tokens = 0;
  Micros refilled = 0;  ///< when `tokens` was last brought up to date
};

/// State the broker keeps in memory only, across transactions: losing it
/// on restart is harmless (a rate limit starts afresh).
struct Runtime {
  std::map<std::string, Throttle, std::less<>> throttles;

  /// What a dequeue with a dequeue_id leased, so that a repeat of it (the
  /// worker timed out and sent it again) gets the same leases back
  /// (PROTOCOL.md §10.4a). Memory only: after a restart a repeat leases
  /// afresh, and the first one's leases run out as any do.
  struct Granted {
    std::vector<std::pair<std::string, std::uint64_t>> leases;  ///< job, token
    std::vector<reply::ItemResult> acks;  ///< the first one's piggybacked acks' results
    Micros until = 0;                     ///< the latest lease's deadline: forgotten after
  };
  /// Keyed "datasource NUL worker NUL dequeue_id"; at most kMaxGranted, the
  /// oldest forgotten first.
  std::map<std::string, Granted, std::less<>> granted;
  std::deque<std::string> granted_order;
  static constexpr std::size_t kMaxGranted = 100'000;

  /// What the transaction in progress changed here, so that an aborted one
  /// (a storage failure; the broker applies it again) leaves no trace: a
  /// dequeue remembered, or tokens spent, for leases that were never stored.
  struct Journal {
    std::vector<std::string> granted;                  ///< keys remembered
    std::vector<std::pair<std::string, double>> spent;  ///< tokens taken, per datasource
  } journal;
  /// A transaction begins: its changes are journaled from here.
  void begin() { journal = {}; }
  /// It was aborted: undoes what it changed.
  void undo();
};

/// The broker process's own figures, for the stats command: what the view
/// cannot know (counters since start, the storage's size, connections).
struct ProcessFigures {
  /// The stats reply with the process's fields filled in; the domain adds
  /// version, now, the log's size and the datasources.
  reply::Stats process;
  /// Jobs submitted and completed in the last minute, per datasource.
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>, std::less<>> last_minute;
};

/// What one command needs besides the view.
struct Context {
  Micros now = 0;            ///< wall clock, microseconds since the epoch
  Runtime* runtime = nullptr;  ///< may be null: no rate limits apply
  const ProcessFigures* figures = nullptr;  ///< may be null: stats report zeros
  /// The caller, already through authorize(); null in plain mode (every
  /// command allowed). Commands use it for the checks that need the view:
  /// a lease belongs to the principal that took it, a client looks up only
  /// its own jobs, a worker lists only its own datasources.
  const Principal* who = nullptr;
};

struct Outcome {
  Result<ReplyBody> reply = ReplyBody{};
  std::vector<Notice> notices;
  /// Refusals worth a line in the broker's log (a stale fencing token).
  std::vector<std::string> warnings;
  /// A dequeue that found nothing and may wait: the transport parks it and
  /// runs it again when its datasource changes, at `wake_at` (the earliest
  /// time one of its jobs becomes eligible, 0 if none is known) or at its
  /// deadline, whichever comes first.
  bool park = false;
  Micros wake_at = 0;
};

/// Runs one command against the view. Expected refusals (not found,
/// conflict, ...) are Error values in `reply` and change nothing. Storage
/// failures throw; the caller aborts the transaction, so a half-applied
/// command never commits.
Outcome execute(View& view, const Command& command, const Context& ctx);

/// Folds one logged event into the view, as of log timestamp `ts`, and
/// returns what it announces. An event that does not fit the view (a submit
/// into a missing datasource, say) is an Error: the log and view disagree.
Result<std::vector<Notice>> apply(View& view, const Event& event, Micros ts);

/// Appends `e` to the log at the next timestamp and folds it into the view;
/// returns its notices and sets `*ts_out` to its timestamp. A fold error here
/// is a bug in the caller and throws std::logic_error.
std::vector<Notice> record(View& view, const Event& e, Micros now, Micros* ts_out = nullptr);

/// Appends a log entry that record() wrote earlier (its key and value) and
/// folds it into the view, as record() did: how the log is folded anew
/// (verify) and how the journal's entries reach the store after a crash.
/// An entry that does not decode or fold is an Error.
Result<std::vector<Notice>> replay(View& view, std::string_view key, std::string_view value);

}  // namespace ledgerq::domain
