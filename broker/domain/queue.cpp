// The worker's side of a datasource, in PinLater's shape: dequeue leases
// eligible jobs under a fencing token; ack reports outcomes; checkpoint
// extends, rewrites or releases a lease.
#include <algorithm>
#include <set>
#include <stdexcept>

#include "backoff.hpp"
#include "codec/codec.hpp"
#include "commands.hpp"

namespace ledgerq::domain::detail {
namespace {

constexpr std::uint32_t kMaxWaitMs = 600'000;
constexpr std::uint32_t kMaxLeaseMs = 86'400'000;  // a day; heartbeats extend it
constexpr std::size_t kMaxCustomStatus = 1024;

struct Candidate {
  std::uint8_t priority;
  ReadyHead head;
  bool operator<(const Candidate& o) const {
    return std::tie(priority, head.eligible, head.submitted) < std::tie(o.priority, o.head.eligible, o.head.submitted);
  }
};

// A job held under `token`, or why not: the fencing check every worker call
// makes before it may change a job.
Result<JobRecord> held(Exec& x, const std::string& ds, const std::string& job, std::uint64_t token) {
  auto j = x.view.job(ds, job);
  if (!j) return no_job(ds, job);
  const StatusRecord& s = j->state;
  // A lease is its principal's: a token read from a notice or a lookup is
  // not enough to act on it (PROTOCOL.md §14.4).
  if (x.ctx.who && !s.worker.empty() && !x.ctx.who->owns_lease(s.worker))
    return err(Code::forbidden, "job " + quote(job) + " is leased to " + quote(s.worker) + ", not to " +
                                    quote(x.ctx.who->name) + ": a lease belongs to the principal that took it");
  if (s.status != JobStatus::accepted || s.lease_until == 0 || s.token != token) {
    std::string why = "stale lease token " + std::to_string(token) + " for job " + quote(job) + ": ";
    if (s.status == JobStatus::accepted && s.lease_until != 0)
      why += "it is held under token " + std::to_string(s.token) + " by " + quote(s.worker);
    else
      why += "it is " + std::string(status_name(s.status)) + ", not leased";
    x.out.warnings.push_back(why);
    return err(Code::conflict, why);
  }
  return std::move(*j);
}

// Keeps the last kMaxCustomStatus bytes: the newest news matters most.
std::string appended(const std::string& old, const std::string& more) {
  std::string s = old + more;
  if (s.size() > kMaxCustomStatus) s.erase(0, s.size() - kMaxCustomStatus);
  return s;
}

// Refills the datasource's token bucket; how many jobs may be leased now.
std::uint32_t allowance(Exec& x, const std::string& ds, const DatasourceRecord& rec, std::uint32_t want) {
  if (rec.options.dequeue_rate == 0 || !x.ctx.runtime) return want;
  const double rate = rec.options.dequeue_rate;
  auto [it, fresh] = x.ctx.runtime->throttles.try_emplace(ds, Throttle{rate, x.ctx.now});
  Throttle& t = it->second;
  if (!fresh && x.ctx.now > t.refilled)
    t.tokens = std::min(rate, t.tokens + rate * static_cast<double>(x.ctx.now - t.refilled) / 1e6);
  t.refilled = x.ctx.now;
  return std::min<std::uint32_t>(want, static_cast<std::uint32_t>(t.tokens));
}

void spend(Exec& x, const std::string& ds, std::uint32_t n) {
  if (!x.ctx.runtime) return;
  auto it = x.ctx.runtime->throttles.find(ds);
  if (it == x.ctx.runtime->throttles.end()) return;
  it->second.tokens -= n;
  x.ctx.runtime->journal.spent.emplace_back(ds, n);
}

}  // namespace

reply::ItemResult ack_one(Exec& x, const std::string& ds, const DatasourceRecord& rec, const cmd::AckItem& a) {
  reply::ItemResult r{a.job, Code::ok, "", 0, false};
  auto fail = [&](const Error& e) {
    r.code = e.code;
    r.message = e.message;
    return r;
  };
  if (a.outcome != "success" && a.outcome != "failure" && a.outcome != "cancelled")
    return fail(err(Code::bad_request, "outcome must be 'success', 'failure' or 'cancelled'"));
  auto j = held(x, ds, a.job, a.token);
  if (!j) return fail(j.error());
  const StatusRecord& s = j->state;
  Event e{.type = EventType::ack, .datasource = ds, .job = a.job, .token = a.token};
  if (a.outcome == "success") {
    e.status = JobStatus::complete;
    e.response = a.response;
  } else if (a.outcome == "cancelled" || s.cancel_requested) {
    e.status = JobStatus::cancelled;
    e.error = a.error;
  } else if (s.attempts_made < s.attempts) {
    e.status = JobStatus::retrying;
    e.error = a.error.value_or("");
    e.run_after = x.ctx.now + (a.retry_delay_ms ? Micros{*a.retry_delay_ms} * 1000 : backoff_us(rec.options, a.job, s.attempts_made));
  } else {
    e.status = JobStatus::failed;
    e.error = a.error.value_or("");
  }
  if (!a.custom_status.empty()) e.custom_status = appended(s.custom_status, a.custom_status);
  x.record(e);
  return r;
}

Result<ReplyBody> ack(Exec& x, const cmd::Ack& c) {
  auto ds = x.view.datasource(c.datasource);
  if (!ds) return no_datasource(c.datasource);
  if (c.acks.empty() || c.acks.size() > codec::Limits::max_page) return err(Code::bad_request, "an ack holds 1 to 1000 jobs");
  reply::Ack out;
  for (const auto& a : c.acks) out.results.push_back(ack_one(x, c.datasource, *ds, a));
  return out;
}

namespace {
// Keeps what a dequeue leased for its repeats; forgets what has run out and,
// past the bound, the oldest.
void remember(Runtime& rt, const std::string& key, const reply::Dequeue& out, Micros now) {
  while (!rt.granted_order.empty()) {
    auto it = rt.granted.find(rt.granted_order.front());
    if (it != rt.granted.end() && it->second.until > now && rt.granted.size() < Runtime::kMaxGranted) break;
    if (it != rt.granted.end()) rt.granted.erase(it);
    rt.granted_order.pop_front();
  }
  Runtime::Granted g;
  g.acks = out.acks;
  for (const auto& j : out.jobs) {
    g.leases.emplace_back(j.state.job, j.state.token);
    g.until = std::max(g.until, j.state.lease_until);
  }
  if (rt.granted.insert_or_assign(key, std::move(g)).second) rt.granted_order.push_back(key);
  rt.journal.granted.push_back(key);
}
}  // namespace

Result<ReplyBody> dequeue(Exec& x, const cmd::Dequeue& c) {
  auto ds = x.view.datasource(c.datasource);
  if (!ds) return no_datasource(c.datasource);
  const std::uint32_t limit = c.limit.value_or(1);
  if (limit == 0 || limit > codec::Limits::max_page) return err(Code::bad_request, "limit must be 1 to 1000");
  if (c.wait_ms && *c.wait_ms > kMaxWaitMs) return err(Code::bad_request, "wait_ms is at most 600000");
  if (c.lease_ms && (*c.lease_ms == 0 || *c.lease_ms > kMaxLeaseMs))
    return err(Code::bad_request, "lease_ms must be 1 to 86400000");
  if (c.acks.size() > codec::Limits::max_page) return err(Code::bad_request, "at most 1000 piggybacked acks");

  // A repeat of a dequeue that leased jobs: the same leases, those still
  // held under the tokens it got, and nothing new.
  const std::string repeat_key =
      c.dequeue_id.empty() || c.dry_run ? std::string() : c.datasource + '\0' + c.worker + '\0' + c.dequeue_id;
  if (!repeat_key.empty() && x.ctx.runtime)
    if (auto it = x.ctx.runtime->granted.find(repeat_key); it != x.ctx.runtime->granted.end()) {
      reply::Dequeue again;
      again.acks = it->second.acks;
      for (const auto& [job, token] : it->second.leases) {
        const JobRecord* j = x.view.find_job(c.datasource, job);
        if (j && j->state.status == JobStatus::accepted && j->state.token == token && j->state.worker == c.worker)
          again.jobs.push_back(JobInfo{j->state, j->request});
      }
      return again;
    }

  // The rate limit is checked before anything is applied, piggybacked acks
  // included, so a refused dequeue changed nothing and can simply be retried.
  const std::uint32_t allowed = c.dry_run ? limit : allowance(x, c.datasource, *ds, limit);
  if (allowed == 0)
    return err(Code::rate_limited, "datasource " + quote(c.datasource) + " allows " +
                                       std::to_string(ds->options.dequeue_rate) + " dequeues a second; retry later");

  reply::Dequeue out;
  out.acks.reserve(c.acks.size());
  x.out.notices.reserve(x.out.notices.size() + c.acks.size());  // one per ack
  for (const auto& a : c.acks) out.acks.push_back(ack_one(x, c.datasource, *ds, a));

  // Paused: the acks count, nothing is leased, and a dequeue that may wait
  // waits for the resume (a ds_configure wakes it) or its deadline.
  if (ds->options.paused) {
    if (!c.dry_run && c.wait_ms.value_or(0) > 0) {
      x.out.park = true;
      x.out.wake_at = 0;
    }
    return out;
  }

  // Heads of every (type, priority) line the worker may take from; the
  // best `allowed` of their due jobs, by priority, eligibility, submit order.
  // A worker that names its types pays for those only, and one that names
  // none reads the line of all types: neither pays for the other types the
  // datasource has.
  std::vector<std::string> types;
  if (c.types) {
    const std::set<std::string> wanted(c.types->begin(), c.types->end());
    for (const auto& t : wanted)
      if (x.view.has_ready(c.datasource, t)) types.push_back(t);
  } else {
    types.emplace_back(kAllTypes);
  }
  // The broker's clock is the log's: it may run a few microseconds ahead of
  // the wall clock when many events share one, and a job submitted "now"
  // must be eligible now.
  const Micros now = std::max(x.ctx.now, x.view.last_timestamp());
  std::vector<Candidate> due;
  for (const auto& type : types)
    for (std::uint8_t p = 1; p <= 3; ++p)
      for (auto& h : x.view.ready_line(c.datasource, type, p, now, allowed)) due.push_back({p, std::move(h)});
  std::sort(due.begin(), due.end());
  if (due.size() > allowed) due.resize(allowed);

  // A dequeue that may wait takes at most the datasource's lease: a worker
  // that parked for long and died meanwhile must not hold a job for an hour
  // (it extends a lease it is alive to use with checkpoint).
  Micros lease = lease_us(ds->options, c.lease_ms);
  if (c.wait_ms.value_or(0) > 0) lease = std::min(lease, lease_us(ds->options, std::nullopt));
  out.jobs.reserve(due.size());
  x.out.notices.reserve(x.out.notices.size() + due.size());  // one per lease
  std::size_t bytes = 0;
  for (const auto& cand : due) {
    const JobRecord* j = x.view.find_job(c.datasource, cand.head.job);
    if (!j) throw std::logic_error("ready index points at a missing job");
    // Lease no job the reply could not carry: fewer jobs than asked, each
    // of them delivered.
    if (!fits(bytes, reply_bytes(*j, true))) break;
    if (!c.dry_run) {
      x.record(Event{.type = EventType::lease, .datasource = c.datasource, .job = cand.head.job, .worker = c.worker,
                     .token = j->state.token + 1, .lease_until = x.ctx.now + lease});
      j = x.view.find_job(c.datasource, cand.head.job);  // leased now
    }
    out.jobs.push_back(JobInfo{j->state, j->request});
  }
  if (!c.dry_run) spend(x, c.datasource, static_cast<std::uint32_t>(out.jobs.size()));
  if (!repeat_key.empty() && x.ctx.runtime && !out.jobs.empty()) remember(*x.ctx.runtime, repeat_key, out, x.ctx.now);
  if (out.jobs.empty() && !c.dry_run && c.wait_ms.value_or(0) > 0) {
    // Nothing is due: it waits, to be woken by a submit or by the first job
    // that becomes due later.
    Micros wake = 0;
    for (const auto& type : types)
      for (std::uint8_t p = 1; p <= 3; ++p)
        if (auto head = x.view.ready_head(c.datasource, type, p); head && head->eligible > now)
          wake = wake == 0 ? head->eligible : std::min(wake, head->eligible);
    x.out.park = true;
    x.out.wake_at = wake;
  }
  return out;
}

Result<ReplyBody> checkpoint(Exec& x, const cmd::Checkpoint& c) {
  auto ds = x.view.datasource(c.datasource);
  if (!ds) return no_datasource(c.datasource);
  if (c.lease_ms && (*c.lease_ms == 0 || *c.lease_ms > kMaxLeaseMs))
    return err(Code::bad_request, "lease_ms must be 1 to 86400000");
  if (!c.to_pending && (c.run_after || c.attempts))
    return err(Code::bad_request, "run_after and attempts go with to_pending");
  if (c.attempts && *c.attempts == 0) return err(Code::bad_request, "attempts must be at least 1");
  auto j = held(x, c.datasource, c.job, c.token);
  if (!j) return j.error();
  Event e{.type = EventType::checkpoint, .datasource = c.datasource, .job = c.job, .request = c.request,
          .token = c.token, .custom_status = c.custom_status};
  if (c.to_pending) {
    // A cancel asked for while it was held wins over the release.
    e.status = j->state.cancel_requested ? JobStatus::cancelled : JobStatus::submitted;
    e.run_after = c.run_after.value_or(0);
    e.attempts = c.attempts;
  } else {
    e.lease_until = x.ctx.now + lease_us(ds->options, c.lease_ms);  // a heartbeat
  }
  x.record(e);
  return reply::Status{x.view.job(c.datasource, c.job)->state};
}

}  // namespace ledgerq::domain::detail

namespace ledgerq::domain {

void Runtime::undo() {
  for (const auto& key : journal.granted) granted.erase(key);  // granted_order skips erased keys
  for (const auto& [ds, n] : journal.spent)
    if (auto it = throttles.find(ds); it != throttles.end()) it->second.tokens += n;
  journal = {};
}

}  // namespace ledgerq::domain
