// Internal to the domain: the command handlers, one file per family
// (machine.cpp: datasources, submit and the core client/driver commands;
// queue.cpp: the worker's dequeue/ack/checkpoint; admin.cpp: introspection
// and repair; history.cpp: a job's events from the log). execute() in machine.cpp dispatches to them.
#pragma once

#include <string>

#include "codec/codec.hpp"
#include "machine.hpp"

namespace ledgerq::domain::detail {

/// What a handler works with: the view, the context, and the outcome it
/// adds notices and warnings to.
struct Exec {
  View& view;
  const Context& ctx;
  Outcome& out;

  /// Records an event and keeps its notices for publication.
  Micros record(const Event& e) {
    Micros ts = 0;
    for (auto& n : domain::record(view, e, ctx.now, &ts)) out.notices.push_back(std::move(n));
    return ts;
  }
};

inline Error err(Code c, std::string msg) { return Error{c, std::move(msg)}; }
using codec::quote;
inline Error no_datasource(std::string_view ds) {
  return err(Code::not_found, "datasource " + quote(ds) + " not found");
}
inline Error no_job(std::string_view ds, std::string_view job) {
  return err(Code::not_found, "job " + quote(job) + " not found in datasource " + quote(ds));
}

/// An upper bound of a job's encoded size in a reply (its record's strings
/// and response, its body when `with_body`, and the fixed keys), for the
/// reply's byte budget (codec::Limits::reply_items).
inline std::size_t reply_bytes(const JobRecord& j, bool with_body) {
  const StatusRecord& s = j.state;
  std::size_t n = 384 + s.job.size() + s.client.size() + s.error.size() + s.type.size() + s.key.size() +
                  s.lifecycle.size() + s.custom_status.size() + s.worker.size();
  if (s.response) n += s.response->msgpack.size();
  if (with_body) n += j.request.msgpack.size();
  return n;
}

/// Adds `n` bytes to a reply's running total; false when they would take a
/// reply that holds something already past its budget.
inline bool fits(std::size_t& total, std::size_t n) {
  if (total != 0 && total + n > codec::Limits::reply_items) return false;
  total += n;
  return true;
}

Result<ReplyBody> dequeue(Exec& x, const cmd::Dequeue& c);
Result<ReplyBody> ack(Exec& x, const cmd::Ack& c);
Result<ReplyBody> checkpoint(Exec& x, const cmd::Checkpoint& c);
/// One ack, as in an ack command or piggybacked on a dequeue.
reply::ItemResult ack_one(Exec& x, const std::string& ds, const DatasourceRecord& rec, const cmd::AckItem& a);

Result<ReplyBody> lookup(Exec& x, const cmd::Lookup& c);
Result<ReplyBody> count(Exec& x, const cmd::Count& c);
Result<ReplyBody> scan(Exec& x, const cmd::Scan& c);
Result<ReplyBody> retry(Exec& x, const cmd::Retry& c);
Result<ReplyBody> remove(Exec& x, const cmd::Delete& c);
Result<ReplyBody> stats(Exec& x);
/// One page of a job's events from the log (history.cpp). Records nothing.
Result<ReplyBody> history(Exec& x, const cmd::History& c);

}  // namespace ledgerq::domain::detail
