// The derived indexes of a job and the queries over them. Each index entry
// is a pure function of (datasource, job record): put_job() computes the
// entries of the record before and after a change and moves the difference,
// so no code path can forget one.
#include <algorithm>

#include "codec/codec.hpp"
#include "must.hpp"
#include "view.hpp"

namespace ledgerq::domain {
namespace {

char byte(JobStatus s) { return static_cast<char>(s); }
char byte(std::uint8_t p) { return static_cast<char>(p); }

std::string ready_prefix(std::string_view ds, std::string_view type, std::uint8_t prio) {
  return join(ds, join(type, std::string(1, byte(prio))));
}

// Visits the entries under `prefix` from `from`, ascending, while `f` says so.
template <class F> void each(Kv& kv, Table t, std::string_view prefix, std::string_view from, F f) {
  kv.scan(t, from.empty() ? prefix : from, [&](std::string_view k, std::string_view v) {
    if (!k.starts_with(prefix)) return false;
    return f(k, v);
  });
}

}  // namespace

void View::add_count(std::string_view ds, JobStatus s, std::uint8_t prio, std::int64_t delta) {
  counts_.add(kv_, join(ds, std::string{byte(s), byte(prio)}), delta, "job count");
}

void View::add_ready_type(std::string_view ds, std::string_view type, std::int64_t delta) {
  ready_types_.add(kv_, join(ds, type), delta, "ready count");
}

void View::put_job(std::string_view ds, const std::optional<JobRecord>& before, JobRecord after) {
  IndexEntries& olds = entries_before_;
  IndexEntries& news = entries_after_;
  olds.clear();
  if (before) olds.build(ds, *before);
  news.build(ds, after);
  for (const auto& e : olds)
    if (!news.contains(e)) kv_.erase(e.table, e.key);
  for (const auto& e : news)
    if (!olds.contains(e)) kv_.put(e.table, e.key, e.value);

  const StatusRecord& a = after.state;
  if (!before || before->state.status != a.status || before->state.priority != a.priority) {
    if (before) add_count(ds, before->state.status, before->state.priority, -1);
    add_count(ds, a.status, a.priority, +1);
  }
  const bool was_ready = olds.in_ready();
  const bool is_ready = news.in_ready();
  if (was_ready && (!is_ready || before->state.type != a.type)) add_ready_type(ds, before->state.type, -1);
  if (is_ready && (!was_ready || before->state.type != a.type)) add_ready_type(ds, a.type, +1);

  // Stored under its submission order; the id map is written once.
  if (!before) kv_.put(Table::job_ids, join(ds, a.job), be64(after.order));
  kv_.put(Table::jobs, join(ds, be64(after.order)), codec::encode(after));
  const std::string job = a.job;  // `after` moves into the cache, its key with it
  cache_job(ds, job, std::move(after));
}

void View::erase_job(std::string_view ds, const JobRecord& before) {
  IndexEntries& entries = entries_before_;
  entries.build(ds, before);
  for (const auto& e : entries) kv_.erase(e.table, e.key);
  add_count(ds, before.state.status, before.state.priority, -1);
  if (entries.in_ready()) add_ready_type(ds, before.state.type, -1);
  kv_.erase(Table::jobs, join(ds, be64(before.order)));
  kv_.erase(Table::job_ids, join(ds, before.state.job));
  cache_job(ds, before.state.job, std::nullopt);
}

StatusCounts View::counts(std::string_view ds) {
  counts_.write_back(kv_);
  StatusCounts c;
  const std::string prefix = join(ds, "");
  each(kv_, Table::counts, prefix, "", [&](std::string_view k, std::string_view v) {
    if (k.size() != prefix.size() + 2) return true;
    const std::uint64_t n = from_be64(v);
    switch (static_cast<JobStatus>(k[prefix.size()])) {
      case JobStatus::submitted: c.submitted += n; break;
      case JobStatus::accepted: c.accepted += n; break;
      case JobStatus::complete: c.complete += n; break;
      case JobStatus::cancelled: c.cancelled += n; break;
      case JobStatus::forbidden: c.forbidden += n; break;
      case JobStatus::failed: c.failed += n; break;
      case JobStatus::retrying: c.retrying += n; break;
    }
    return true;
  });
  return c;
}

std::uint64_t View::count(std::string_view ds, JobStatus status, std::optional<std::uint8_t> priority) {
  counts_.write_back(kv_);
  std::uint64_t n = 0;
  const std::string prefix = join(ds, std::string(1, byte(status)));
  each(kv_, Table::counts, prefix, "", [&](std::string_view k, std::string_view v) {
    if (!priority || static_cast<std::uint8_t>(k.back()) == *priority) n += from_be64(v);
    return true;
  });
  return n;
}

std::optional<ReadyHead> View::ready_head(std::string_view ds, std::string_view type, std::uint8_t priority) {
  const std::string prefix = ready_prefix(ds, type, priority);
  std::optional<ReadyHead> head;
  each(kv_, Table::ready, prefix, "", [&](std::string_view k, std::string_view v) {
    if (k.size() != prefix.size() + 16) throw std::runtime_error("corrupt store: ready key");
    head = ReadyHead{from_be64(k.substr(prefix.size(), 8)), from_be64(k.substr(prefix.size() + 8)),
                     std::string(v)};
    return false;
  });
  return head;
}

std::vector<ReadyHead> View::ready_line(std::string_view ds, std::string_view type, std::uint8_t priority,
                                        Micros now, std::size_t limit) {
  const std::string prefix = ready_prefix(ds, type, priority);
  std::vector<ReadyHead> out;
  each(kv_, Table::ready, prefix, "", [&](std::string_view k, std::string_view v) {
    if (out.size() >= limit) return false;
    const Micros eligible = from_be64(k.substr(prefix.size(), 8));
    if (eligible > now) return false;
    out.push_back(ReadyHead{eligible, from_be64(k.substr(prefix.size() + 8)), std::string(v)});
    return true;
  });
  return out;
}

bool View::has_ready(std::string_view ds, std::string_view type) {
  return ready_types_.get(kv_, join(ds, type)) != 0;
}

std::vector<std::string> View::ready_types(std::string_view ds) {
  ready_types_.write_back(kv_);
  std::vector<std::string> out;
  const std::string prefix = join(ds, "");
  each(kv_, Table::ready_types, prefix, "", [&](std::string_view k, std::string_view) {
    out.emplace_back(k.substr(prefix.size()));
    return true;
  });
  return out;
}

std::uint64_t View::count_ready(std::string_view ds, JobStatus status, std::optional<std::uint8_t> priority,
                                bool due, Micros now, std::uint64_t cap, bool& capped) {
  // Walks the ready lines of every type and priority asked for, reading
  // only the entries on the asked side of `now`: due ones from the head,
  // future ones by seeking to now + 1.
  std::uint64_t n = 0;
  capped = false;
  for (const auto& type : ready_types(ds)) {
    for (std::uint8_t p = 1; p <= 3 && !capped; ++p) {
      if (priority && *priority != p) continue;
      const std::string prefix = ready_prefix(ds, type, p);
      each(kv_, Table::ready, prefix, due ? "" : prefix + be64(now + 1), [&](std::string_view k, std::string_view v) {
        if (due && from_be64(k.substr(prefix.size(), 8)) > now) return false;
        auto j = job(ds, v);
        if (j && j->state.status == status) ++n;
        if (n >= cap) capped = true;
        return !capped;
      });
    }
  }
  return n;
}

std::vector<LeaseRef> View::expired_leases(Micros now, std::size_t limit) {
  std::vector<LeaseRef> out;
  kv_.scan(Table::leases, "", [&](std::string_view k, std::string_view) {
    const Micros until = from_be64(k.substr(0, 8));
    if (until > now || out.size() >= limit) return false;
    const std::string_view rest = k.substr(8);
    const auto nul = rest.find('\0');
    out.push_back(LeaseRef{until, std::string(rest.substr(0, nul)), std::string(rest.substr(nul + 1))});
    return true;
  });
  return out;
}

std::optional<Micros> View::next_lease_deadline() {
  std::optional<Micros> out;
  kv_.scan(Table::leases, "", [&](std::string_view k, std::string_view) {
    out = from_be64(k.substr(0, 8));
    return false;
  });
  return out;
}

std::optional<IndexHit> View::key_head(std::string_view ds, std::string_view key) {
  std::optional<IndexHit> out;
  const std::string prefix = join(ds, join(key, ""));
  each(kv_, Table::key_queue, prefix, "", [&](std::string_view k, std::string_view v) {
    out = IndexHit{std::string(k), std::string(v)};
    return false;
  });
  return out;
}

bool View::key_has_active(std::string_view ds, std::string_view key) {
  bool found = false;
  const std::string prefix = join(ds, join(key, ""));
  each(kv_, Table::key_active, prefix, "", [&](std::string_view, std::string_view) {
    found = true;
    return false;
  });
  return found;
}

std::uint64_t View::finished_count() {
  counts_.write_back(kv_);
  std::uint64_t n = 0;
  kv_.scan(Table::counts, "", [&](std::string_view k, std::string_view v) {
    // ds NUL status prio: the status is the key's last byte but one.
    if (k.size() >= 3 && k[k.size() - 3] == '\0' && is_terminal(static_cast<JobStatus>(k[k.size() - 2])))
      n += from_be64(v);
    return true;
  });
  return n;
}

std::vector<std::pair<std::string, std::string>> View::finished_before(Micros before, std::size_t limit) {
  std::vector<std::pair<std::string, std::string>> out;
  kv_.scan(Table::finished, "", [&](std::string_view k, std::string_view) {
    if (from_be64(k.substr(0, 8)) >= before || out.size() >= limit) return false;
    const std::string_view rest = k.substr(8);
    const auto nul = rest.find('\0');
    out.emplace_back(std::string(rest.substr(0, nul)), std::string(rest.substr(nul + 1)));
    return true;
  });
  return out;
}

std::vector<IndexHit> View::index_page(Table t, std::string_view prefix, std::string_view from, bool after,
                                       std::size_t limit) {
  std::vector<IndexHit> out;
  each(kv_, t, prefix, from, [&](std::string_view k, std::string_view v) {
    if (after && k == from) return true;
    if (out.size() >= limit) return false;
    // The id map is its own index by id: the id is in the key.
    out.push_back(IndexHit{std::string(k), t == Table::job_ids ? std::string(k.substr(prefix.size())) : std::string(v)});
    return true;
  });
  return out;
}

std::size_t add_all_types_lines(Kv& kv) {
  std::vector<Entry> lines;
  kv.scan(Table::ready, "", [&](std::string_view k, std::string_view v) {
    const auto ds_end = k.find('\0');
    const auto type_end = ds_end == std::string_view::npos ? ds_end : k.find('\0', ds_end + 1);
    if (type_end == std::string_view::npos) throw std::runtime_error("corrupt store: ready key");
    if (k.substr(ds_end + 1, type_end - ds_end - 1) == kAllTypes) return true;
    lines.emplace_back(join(k.substr(0, ds_end), join(kAllTypes, k.substr(type_end + 1))), std::string(v));
    return true;
  });
  for (const auto& [k, v] : lines) kv.put(Table::ready, k, v);
  return lines.size();
}

std::size_t upgrade_store(Kv& kv, std::uint32_t from) { return from < 7 ? add_all_types_lines(kv) : 0; }

}  // namespace ledgerq::domain
