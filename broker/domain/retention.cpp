#include "retention.hpp"

#include <limits>

#include "codec/codec.hpp"
#include "must.hpp"

namespace ledgerq::domain {
namespace {

constexpr std::string_view kLogTrimmedThrough = "log_trimmed_through";

// A lease ran out: the job goes back to the queue while attempts remain
// (PinLater's resurrection), ends cancelled when its client asked for that,
// and fails otherwise.
void expire(View& view, const LeaseRef& l, Micros now, TickResult& out) {
  auto j = view.job(l.datasource, l.job);
  if (!j || j->state.status != JobStatus::accepted || j->state.lease_until != l.lease_until)
    throw std::logic_error("lease index out of step with job " + l.job);
  const StatusRecord& s = j->state;
  Event e{.type = EventType::expire, .datasource = l.datasource, .job = l.job, .token = s.token};
  const std::string what = "lease of " + (s.worker.empty() ? std::string("a worker") : codec::quote(s.worker)) +
                           " expired (attempt " + std::to_string(s.attempts_made) + " of " +
                           std::to_string(s.attempts) + ")";
  if (s.cancel_requested) {
    e.status = JobStatus::cancelled;
  } else if (s.attempts_made < s.attempts) {
    e.status = JobStatus::retrying;  // run_after kept: it goes back to its place in the line
  } else {
    e.status = JobStatus::failed;
  }
  e.error = what;
  for (auto& n : record(view, e, now)) out.notices.push_back(std::move(n));
  ++out.stats.expired;
}

// Removes one log entry with what points into it: its request index entry,
// its stored notices, and, for a submit, the tombstone of that job (an id
// is remembered after collection only as long as the log holds its submit).
void trim(View& view, std::string_view key, std::string_view value) {
  auto ev = must(codec::decode_event(value), "log event");
  if (ev.type == EventType::submit || ev.type == EventType::cancel)
    view.kv().erase(Table::ds_requests, join(ev.datasource, key));
  if (ev.type == EventType::submit)
    if (auto t = view.tombstone(ev.datasource, ev.job); t && t->submitted == from_be64(key))
      view.erase_tombstone(ev.datasource, ev.job);
  std::vector<std::string> notices;
  view.kv().scan(Table::notice_times, key, [&](std::string_view k, std::string_view) {
    if (!k.starts_with(key)) return false;
    notices.emplace_back(k);
    return true;
  });
  for (const auto& n : notices) {
    view.erase_notice(std::string_view(n).substr(8));
    view.kv().erase(Table::notice_times, n);
  }
  view.note_log_trim(value.size());
  view.kv().erase(Table::log, key);
  // The store's own record that history was cut (for tools that verify).
  view.kv().put(Table::meta, kLogTrimmedThrough, key);
}

}  // namespace

TickResult tick(View& view, Micros now, const Retention& r, std::size_t budget) {
  TickResult out;

  // Deleted datasources: one slice of each per call.
  for (const auto& ds : view.deleting_datasources()) {
    record(view, Event{.type = EventType::purge, .datasource = ds, .limit = static_cast<std::uint32_t>(budget)}, now);
    out.more |= view.any_datasource(ds).has_value();
    ++out.stats.purges;
  }

  const auto leases = view.expired_leases(now, budget);
  for (const auto& l : leases) expire(view, l, now, out);
  out.more |= leases.size() == budget;

  // Finished jobs past their age, then the oldest-finished past the count.
  auto collect = [&](const std::vector<std::pair<std::string, std::string>>& old) {
    for (const auto& [ds, job] : old) {
      record(view, Event{.type = EventType::gc, .datasource = ds, .job = job}, now);
      ++out.stats.collected;
    }
  };
  if (r.job_age != 0 && now > r.job_age) {
    const auto old = view.finished_before(now - r.job_age, budget);
    collect(old);
    out.more |= old.size() == budget;
  }
  if (r.job_count != 0 && out.stats.collected < budget) {
    if (const auto n = view.finished_count(); n > r.job_count) {
      const auto slice = std::min<std::uint64_t>(n - r.job_count, budget - out.stats.collected);
      collect(view.finished_before(std::numeric_limits<Micros>::max(), slice));
      out.more |= n - r.job_count > slice;
    }
  }

  if (r.log_age != 0 || r.log_bytes != 0) {
    std::vector<std::pair<std::string, std::string>> doomed;
    // The notices go with their entries, so they count against the size;
    // an entry is taken to free its notices' share of them too.
    std::uint64_t bytes = view.log_bytes() + view.notice_bytes();
    const double per_log_byte = view.log_bytes() ? static_cast<double>(bytes) / view.log_bytes() : 1.0;
    view.kv().scan(Table::log, "", [&](std::string_view k, std::string_view v) {
      const bool too_old = r.log_age != 0 && now > r.log_age && from_be64(k) < now - r.log_age;
      const bool too_big = r.log_bytes != 0 && bytes > r.log_bytes;
      if (!(too_old || too_big) || doomed.size() >= budget) return false;
      doomed.emplace_back(k, v);
      bytes -= std::min<std::uint64_t>(bytes, static_cast<std::uint64_t>(v.size() * per_log_byte));
      return true;
    });
    for (const auto& [k, v] : doomed) trim(view, k, v);
    out.stats.trimmed = doomed.size();
    out.more |= doomed.size() == budget;
  }
  return out;
}

LogSize log_size(View& view) {
  LogSize s{view.log_entries(), view.log_bytes(), 0};
  view.kv().scan(Table::log, "", [&](std::string_view k, std::string_view) {
    s.first = from_be64(k);
    return false;
  });
  return s;
}

}  // namespace ledgerq::domain
