// Introspection and repair, PinLater's admin surface: lookup, count, scan,
// retry and delete. Every answer comes from an ordered index (indexes.cpp)
// and reads a bounded number of entries per call.
#include <algorithm>
#include <cstdint>
#include <utility>

#include "codec/codec.hpp"
#include "commands.hpp"
#include "retention.hpp"

namespace ledgerq::domain::detail {
namespace {

constexpr std::uint64_t kCountCap = 100'000;      // a due/future count stops here
constexpr std::size_t kScanBudget = 10'000;       // index entries read per scan page
constexpr std::uint32_t kDefaultBulk = 1'000;     // retry/delete default limit
constexpr std::uint32_t kMaxBulk = 10'000;

std::string hex(std::string_view s) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::optional<std::string> unhex(std::string_view s) {
  if (s.size() % 2) return std::nullopt;
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < s.size(); i += 2) {
    const int hi = val(s[i]), lo = val(s[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

// The index that answers a filter best, and the key prefix of its range.
// The most selective filter wins; the rest are checked on each record.
struct Range {
  Table table;
  std::string prefix;
  char tag;  // names the index in continuations, so one from another scan is refused
};

Range range_for(const std::string& ds, const cmd::JobFilter& f) {
  if (!f.key.empty()) return {Table::by_key, join(ds, join(f.key, "")), 'k'};
  if (!f.client.empty()) return {Table::by_client, join(ds, join(f.client, "")), 'c'};
  if (!f.type.empty()) return {Table::by_type, join(ds, join(f.type, "")), 't'};
  if (f.status) return {Table::by_status, join(ds, std::string(1, static_cast<char>(*f.status))), 's'};
  return {Table::job_ids, join(ds, ""), 'j'};
}

bool matches(const StatusRecord& s, const cmd::JobFilter& f) {
  return (!f.status || s.status == *f.status) && (f.type.empty() || s.type == f.type) &&
         (f.key.empty() || s.key == f.key) && (f.client.empty() || s.client == f.client) &&
         (!f.priority || s.priority == *f.priority);
}

// What `take` tells walk() of a job: go on, stop after it, or stop before
// it (it was not taken: the next walk starts with it).
enum class Take { more, last, refused };

// Walks a filter's range from `from`, reading at most `budget` entries;
// calls `take` on each matching job until it says stop. Returns the index
// key to continue after when the walk stopped before the range's end.
template <class TakeFn>
std::optional<std::string> walk(View& view, const std::string& ds, const cmd::JobFilter& f, const Range& r,
                                std::string from, std::size_t budget, TakeFn take) {
  for (;;) {
    const std::size_t chunk = std::min<std::size_t>(budget, 256);
    auto hits = view.index_page(r.table, r.prefix, from, /*after=*/!from.empty(), chunk);
    if (hits.empty()) return std::nullopt;
    for (const auto& h : hits) {
      --budget;
      std::string before = std::exchange(from, h.index_key);
      auto j = view.job(ds, h.job);
      if (j && matches(j->state, f)) {
        const Take t = take(*j);
        if (t == Take::last) return from;
        if (t == Take::refused) return before;
      }
      if (budget == 0) return from;
    }
    if (hits.size() < chunk) return std::nullopt;
  }
}

// A retry or delete by id (§6.12): the listed jobs in request order, each
// still held to `f`, at most `limit`. Each job is read again just before
// `act` records its event, so an id listed twice acts once: after its event
// a retried job is no longer failed and a deleted one is gone. Unknown ids
// are skipped, as lookup leaves them out.
template <class ActFn>
std::uint64_t by_id(View& view, const std::string& ds, const std::vector<std::string>& jobs, const cmd::JobFilter& f,
                    std::uint32_t limit, ActFn act) {
  std::uint64_t done = 0;
  for (const auto& id : jobs) {
    if (done == limit) break;
    auto j = view.job(ds, id);
    if (!j || !matches(j->state, f)) continue;
    act(*j);
    ++done;
  }
  return done;
}

Error bad_ids(std::string_view command) {
  return err(Code::bad_request, std::string(command) + " takes 1 to 1000 ids in jobs");
}

bool ids_out_of_range(const std::optional<std::vector<std::string>>& jobs) {
  return jobs && (jobs->empty() || jobs->size() > codec::Limits::max_page);
}

}  // namespace

Result<ReplyBody> lookup(Exec& x, const cmd::Lookup& c) {
  if (!x.view.datasource(c.datasource)) return no_datasource(c.datasource);
  if (c.jobs.empty() || c.jobs.size() > codec::Limits::max_page) return err(Code::bad_request, "lookup takes 1 to 1000 ids");
  reply::Lookup out;
  std::size_t bytes = 0;
  for (const auto& id : c.jobs) {
    auto j = x.view.job(c.datasource, id);
    if (!j) continue;
    if (x.ctx.who && x.ctx.who->role == Role::client && j->state.client != x.ctx.who->name)
      return err(Code::forbidden, "job " + quote(id) + " belongs to another client; a client looks up its own jobs");
    // A body and a response that together pass one body's limit would not
    // fit one frame: such a job comes without its body (§6.11).
    const bool body = c.bodies && j->request.msgpack.size() + (j->state.response ? j->state.response->msgpack.size() : 0) <=
                                      codec::Limits::max_body;
    if (!out.more && !fits(bytes, reply_bytes(*j, body))) out.more = true;  // the ids left: ask again
    if (out.more) continue;  // (the ownership check still runs over every id)
    out.jobs.push_back(JobInfo{j->state, body ? std::optional<Any>(j->request) : std::nullopt});
  }
  return out;
}

Result<ReplyBody> count(Exec& x, const cmd::Count& c) {
  if (!x.view.datasource(c.datasource)) return no_datasource(c.datasource);
  if (c.priority && (*c.priority < 1 || *c.priority > 3)) return err(Code::bad_request, "priority must be 1, 2 or 3");
  reply::Count out;
  if (c.due.empty()) {
    out.count = x.view.count(c.datasource, c.status, c.priority);
    return out;
  }
  if (c.due != "now" && c.due != "future") return err(Code::bad_request, "due must be 'now' or 'future'");
  if (c.status != JobStatus::submitted && c.status != JobStatus::retrying)
    return err(Code::bad_request, "due applies to submitted and retrying jobs only");
  const Micros now = std::max(x.ctx.now, x.view.last_timestamp());  // the log's clock, as dequeue uses
  out.count = x.view.count_ready(c.datasource, c.status, c.priority, c.due == "now", now, kCountCap, out.capped);
  return out;
}

Result<ReplyBody> scan(Exec& x, const cmd::Scan& c) {
  if (!x.view.datasource(c.datasource)) return no_datasource(c.datasource);
  const std::uint32_t limit = std::min(c.limit.value_or(codec::Limits::default_page), codec::Limits::max_page);
  if (limit == 0) return err(Code::bad_request, "limit must be at least 1");
  const Range r = range_for(c.datasource, c.filter);
  std::string from;
  if (!c.continuation.empty()) {
    auto raw = c.continuation[0] == r.tag ? unhex(std::string_view(c.continuation).substr(1)) : std::nullopt;
    if (!raw || !raw->starts_with(r.prefix))
      return err(Code::bad_request, "continuation does not belong to this scan");
    from = *raw;
  }
  reply::Scan out;
  std::size_t bytes = 0;
  auto stopped = walk(x.view, c.datasource, c.filter, r, from, kScanBudget, [&](const JobRecord& j) {
    if (!fits(bytes, reply_bytes(j, false))) return Take::refused;
    out.jobs.push_back(JobInfo{j.state, std::nullopt});
    return out.jobs.size() < limit ? Take::more : Take::last;
  });
  if (stopped) out.continuation = r.tag + hex(*stopped);
  return out;
}

Result<ReplyBody> retry(Exec& x, const cmd::Retry& c) {
  if (!x.view.datasource(c.datasource)) return no_datasource(c.datasource);
  const std::uint32_t limit = std::min(c.limit.value_or(kDefaultBulk), kMaxBulk);
  if (limit == 0) return err(Code::bad_request, "limit must be at least 1");
  const std::uint32_t grant = c.attempts.value_or(1);
  if (grant == 0) return err(Code::bad_request, "attempts must be at least 1");
  if (c.priority && (*c.priority < 1 || *c.priority > 3)) return err(Code::bad_request, "priority must be 1, 2 or 3");
  if (ids_out_of_range(c.jobs)) return bad_ids("retry");
  cmd::JobFilter f{.status = JobStatus::failed, .priority = c.priority};
  auto retry_one = [&](const JobRecord& j) {
    // Saturates: 2^32-1 attempts granted to a job that made some must not wrap to a few.
    const auto attempts = std::min<std::uint64_t>(std::uint64_t{j.state.attempts_made} + grant, UINT32_MAX);
    x.record(Event{.type = EventType::retry, .datasource = c.datasource, .job = j.state.job,
                   .run_after = c.run_after, .attempts = static_cast<std::uint32_t>(attempts)});
  };
  if (c.jobs) return reply::Retry{by_id(x.view, c.datasource, *c.jobs, f, limit, retry_one)};
  std::vector<JobRecord> found;
  walk(x.view, c.datasource, f, range_for(c.datasource, f), "", kMaxBulk * 10, [&](const JobRecord& j) {
    found.push_back(j);
    return found.size() < limit ? Take::more : Take::last;
  });
  for (const auto& j : found) retry_one(j);
  return reply::Retry{found.size()};
}

Result<ReplyBody> remove(Exec& x, const cmd::Delete& c) {
  if (!x.view.datasource(c.datasource)) return no_datasource(c.datasource);
  // A status keeps a filter from deleting every job by mistake; listed ids
  // name their jobs already, so they need none.
  if (!c.filter.status && !c.jobs) return err(Code::bad_request, "delete needs a status or jobs");
  const std::uint32_t limit = std::min(c.limit.value_or(kDefaultBulk), kMaxBulk);
  if (limit == 0) return err(Code::bad_request, "limit must be at least 1");
  if (ids_out_of_range(c.jobs)) return bad_ids("delete");
  if (c.jobs) {
    return reply::Delete{by_id(x.view, c.datasource, *c.jobs, c.filter, limit, [&](const JobRecord& j) {
      x.record(Event{.type = EventType::remove, .datasource = c.datasource, .job = j.state.job});
    })};
  }
  std::vector<std::string> found;
  walk(x.view, c.datasource, c.filter, range_for(c.datasource, c.filter), "", kMaxBulk * 10,
       [&](const JobRecord& j) {
         found.push_back(j.state.job);
         return found.size() < limit ? Take::more : Take::last;
       });
  for (const auto& job : found) x.record(Event{.type = EventType::remove, .datasource = c.datasource, .job = job});
  return reply::Delete{found.size()};
}

Result<ReplyBody> stats(Exec& x) {
  reply::Stats r = x.ctx.figures ? x.ctx.figures->process : reply::Stats{};
  r.version = codec::kVersion;
  r.release = std::string(codec::kRelease);
  r.now = x.ctx.now;
  const LogSize log = log_size(x.view);
  r.log_entries = log.entries;
  r.log_bytes = log.bytes;
  r.log_first = log.first;
  r.notice_bytes = x.view.notice_bytes();
  for (const auto& d : x.view.datasources()) {
    reply::DsStats s{d.datasource, d.counts, 0, 0, 0};
    if (const auto* f = x.ctx.figures) {
      if (auto it = f->last_minute.find(d.datasource); it != f->last_minute.end())
        std::tie(s.submitted_1m, s.completed_1m) = it->second;
    }
    // The oldest waiting job is the earliest head of the line of all types.
    for (std::uint8_t p = 1; p <= 3; ++p)
      if (auto h = x.view.ready_head(d.datasource, kAllTypes, p))
        s.oldest_pending = s.oldest_pending ? std::min(s.oldest_pending, h->eligible) : h->eligible;
    r.datasources.push_back(std::move(s));
  }
  return r;
}

}  // namespace ledgerq::domain::detail
