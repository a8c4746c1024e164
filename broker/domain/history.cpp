// history: one job's events, read from the log between its submit and its
// last change. The log is keyed by time, so a job's events are the entries
// in [submitted, updated] that name it; no index of them is kept, so the
// commands that change jobs pay nothing for this one. Read-only: it records
// no event, so a turn that runs it writes nothing to the journal or the log.
#include <cstdio>

#include "commands.hpp"
#include "must.hpp"

namespace ledgerq::domain::detail {
namespace {

constexpr std::size_t kHistoryBudget = 10'000;  // log entries read per page (PROTOCOL.md §6.14)
constexpr char kTag = 'h';                      // marks a history continuation

// The continuation: the tag, then the log key to read next as 16 hex digits.
std::string continuation_at(Micros ts) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%c%016llx", kTag, static_cast<unsigned long long>(ts));
  return buf;
}

std::optional<Micros> continuation_time(std::string_view c) {
  if (c.size() != 17 || c[0] != kTag) return std::nullopt;
  Micros ts = 0;
  for (char ch : c.substr(1)) {
    int d = -1;
    if (ch >= '0' && ch <= '9') d = ch - '0';
    if (ch >= 'a' && ch <= 'f') d = ch - 'a' + 10;
    if (d < 0) return std::nullopt;
    ts = ts * 16 + static_cast<Micros>(d);
  }
  return ts;
}

}  // namespace

Result<ReplyBody> history(Exec& x, const cmd::History& c) {
  if (!x.view.datasource(c.datasource)) return no_datasource(c.datasource);
  const auto j = x.view.job(c.datasource, c.job);
  if (!j) return no_job(c.datasource, c.job);
  if (x.ctx.who && x.ctx.who->role == Role::client && j->state.client != x.ctx.who->name)
    return err(Code::forbidden, "job " + quote(c.job) + " belongs to another client; a client reads its own jobs' history");
  Micros from = j->state.submitted;
  const Micros to = j->state.updated;
  if (!c.continuation.empty()) {
    // A continuation points past the job's submit and at most at its last
    // change: one from another job's history (or this id's earlier life,
    // before a delete) is refused rather than read as this one's.
    const auto at = continuation_time(c.continuation);
    if (!at || *at <= from || *at > to)
      return err(Code::bad_request, "continuation does not belong to the history of job " + quote(c.job));
    from = *at;
  }
  reply::History out;
  std::size_t bytes = 0, read = 0;
  std::optional<Micros> next;
  x.view.kv().scan(Table::log, be64(from), [&](std::string_view k, std::string_view v) {
    const Micros ts = from_be64(k);
    if (ts > to) return false;
    if (read == kHistoryBudget) {
      next = ts;
      return false;
    }
    ++read;
    // Most entries name other jobs: told apart by their first fields,
    // without decoding their bodies.
    if (auto s = codec::peek_event_subject(v); s && (s->datasource != c.datasource || s->job != c.job)) return true;
    Event e = must(codec::decode_event(v), "log event");
    if (e.datasource != c.datasource || e.job != c.job) return true;
    // The entry's bytes are the record's but for `at` (key and uint64).
    if (!fits(bytes, v.size() + 16)) {
      next = ts;
      return false;
    }
    out.events.push_back(HistoryEvent{ts, std::move(e)});
    return true;
  });
  if (next) out.continuation = continuation_at(*next);
  return out;
}

}  // namespace ledgerq::domain::detail
