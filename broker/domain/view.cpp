#include "view.hpp"

#include <algorithm>
#include <stdexcept>

#include "codec/codec.hpp"
#include "must.hpp"

namespace ledgerq::domain {

const char* table_name(Table t) noexcept {
  switch (t) {
    case Table::meta: return "meta";
    case Table::log: return "log";
    case Table::datasources: return "datasources";
    case Table::jobs: return "jobs";
    case Table::ds_requests: return "ds_requests";
    case Table::clients: return "clients";
    case Table::client_notices: return "client_notices";
    case Table::ready: return "ready";
    case Table::ready_types: return "ready_types";
    case Table::leases: return "leases";
    case Table::by_status: return "by_status";
    case Table::by_client: return "by_client";
    case Table::by_type: return "by_type";
    case Table::by_key: return "by_key";
    case Table::key_queue: return "key_queue";
    case Table::key_active: return "key_active";
    case Table::finished: return "finished";
    case Table::counts: return "counts";
    case Table::keys: return "keys";
    case Table::tombstones: return "tombstones";
    case Table::notice_times: return "notice_times";
    case Table::job_ids: return "job_ids";
  }
  return "?";
}

std::string be64(std::uint64_t v) {
  std::string b(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) b[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
  return b;
}

std::uint64_t from_be64(std::string_view b) {
  if (b.size() != 8) throw std::runtime_error("corrupt store: expected an 8-byte big-endian value");
  std::uint64_t v = 0;
  for (char c : b) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

std::string join(std::string_view a, std::string_view b) {
  std::string k;
  k.reserve(a.size() + 1 + b.size());
  k.append(a);
  k.push_back('\0');
  k.append(b);
  return k;
}

namespace {

constexpr std::string_view kLastTs = "last_ts";
constexpr std::string_view kLogEntries = "log_entries";
constexpr std::string_view kLogBytes = "log_bytes";
constexpr std::string_view kNoticeBytes = "notice_bytes";

}  // namespace

View::View(Kv& kv) : kv_(kv) {
  if (auto v = kv_.get(Table::meta, kLastTs)) last_ts_ = from_be64(*v);
  if (auto v = kv_.get(Table::meta, kLogEntries)) log_entries_ = from_be64(*v);
  if (auto v = kv_.get(Table::meta, kLogBytes)) log_bytes_ = from_be64(*v);
  if (auto v = kv_.get(Table::meta, kNoticeBytes)) notice_bytes_total_ = from_be64(*v);
}

void View::note_log_append(std::size_t value_bytes) {
  ++log_entries_;
  log_bytes_ += value_bytes;
  size_dirty_ = true;
}

void View::note_log_trim(std::size_t value_bytes) {
  log_entries_ -= std::min<std::uint64_t>(log_entries_, 1);
  log_bytes_ -= std::min<std::uint64_t>(log_bytes_, value_bytes);
  size_dirty_ = true;
}

Micros View::next_timestamp(Micros now) {
  last_ts_ = now > last_ts_ ? now : last_ts_ + 1;
  clock_dirty_ = true;
  return last_ts_;
}

void View::advance_clock_to(Micros ts) {
  if (ts > last_ts_) {
    last_ts_ = ts;
    clock_dirty_ = true;
  }
}

std::uint64_t View::Counters::get(Kv& kv, std::string_view key) { return slot(kv, key).value; }

void View::Counters::set(Kv& kv, std::string_view key, std::uint64_t v) {
  auto& s = slot(kv, key);
  s.value = v;
  s.dirty = true;
}

void View::Counters::add(Kv& kv, std::string_view key, std::int64_t delta, const char* what) {
  auto& s = slot(kv, key);
  const std::int64_t n = static_cast<std::int64_t>(s.value) + delta;
  if (n < 0) throw std::logic_error(std::string(what) + " below zero");
  s.value = static_cast<std::uint64_t>(n);
  s.dirty = true;
}

View::Counters::Slot& View::Counters::slot(Kv& kv, std::string_view key) {
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  auto v = kv.get(table_, key);
  return cache_.emplace(std::string(key), Slot{v ? from_be64(*v) : 0, false}).first->second;
}

void View::Counters::write_back(Kv& kv) {
  for (auto& [key, s] : cache_) {
    if (!s.dirty) continue;
    if (s.value == 0 && erase_zero_) kv.erase(table_, key);
    else kv.put(table_, key, be64(s.value));
    s.dirty = false;
  }
}

void View::write_back_datasources() {
  for (auto& [name, c] : datasources_) {
    if (!c.dirty) continue;
    kv_.put(Table::datasources, name, codec::encode(*c.record));
    c.dirty = false;
  }
}

void View::flush() {
  write_back_datasources();
  counts_.write_back(kv_);
  ready_types_.write_back(kv_);
  client_seqs_.write_back(kv_);
  if (clock_dirty_) kv_.put(Table::meta, kLastTs, be64(last_ts_));
  if (size_dirty_) {
    kv_.put(Table::meta, kLogEntries, be64(log_entries_));
    kv_.put(Table::meta, kLogBytes, be64(log_bytes_));
    kv_.put(Table::meta, kNoticeBytes, be64(notice_bytes_total_));
  }
  clock_dirty_ = size_dirty_ = false;
}

std::optional<DatasourceRecord> View::any_datasource(std::string_view ds) {
  auto it = datasources_.find(ds);
  if (it == datasources_.end()) {
    CachedDatasource c;
    if (auto v = kv_.get(Table::datasources, ds)) c.record = must(codec::decode_datasource_record(*v), "datasource record");
    it = datasources_.emplace(std::string(ds), std::move(c)).first;
  }
  return it->second.record;
}

std::optional<DatasourceRecord> View::datasource(std::string_view ds) {
  auto r = any_datasource(ds);
  if (r && r->deleting) return std::nullopt;
  return r;
}

void View::put_datasource(std::string_view ds, const DatasourceRecord& r) {
  auto& c = datasources_[std::string(ds)];
  c.record = r;
  c.dirty = true;
}

std::vector<DatasourceInfo> View::datasources() {
  write_back_datasources();
  std::vector<DatasourceInfo> out;
  kv_.scan(Table::datasources, "", [&](std::string_view k, std::string_view v) {
    auto r = must(codec::decode_datasource_record(v), "datasource record");
    if (!r.deleting) out.push_back(DatasourceInfo{std::string(k), r.created, r.seq, r.options, {}});
    return true;
  });
  for (auto& d : out) d.counts = counts(d.datasource);
  return out;
}

std::vector<std::string> View::deleting_datasources() {
  write_back_datasources();
  std::vector<std::string> out;
  kv_.scan(Table::datasources, "", [&](std::string_view k, std::string_view v) {
    if (must(codec::decode_datasource_record(v), "datasource record").deleting) out.emplace_back(k);
    return true;
  });
  return out;
}

bool View::purge_datasource(std::string_view ds, std::size_t limit) {
  const std::string prefix = join(ds, "");
  auto first_keys = [&](Table t, std::size_t n) {
    std::vector<std::string> keys;
    if (n == 0) return keys;
    kv_.scan(t, prefix, [&](std::string_view k, std::string_view) {
      if (!k.starts_with(prefix)) return false;
      keys.emplace_back(k);
      return keys.size() < n;
    });
    return keys;
  };
  // Jobs one by one, so the global indexes (leases, finished) lose theirs.
  std::size_t left = limit;
  for (const auto& k : first_keys(Table::job_ids, left)) {
    erase_job(ds, *job(ds, std::string_view(k).substr(prefix.size())));
    --left;
  }
  for (Table t : {Table::ds_requests, Table::keys, Table::tombstones})
    for (const auto& k : first_keys(t, left)) {
      kv_.erase(t, k);
      --left;
    }
  if (left == 0) return false;  // perhaps more: the next slice looks
  counts_.write_back(kv_);  // its counters are zero now: erased
  ready_types_.write_back(kv_);
  datasources_[std::string(ds)] = CachedDatasource{};
  kv_.erase(Table::datasources, ds);
  return true;
}

std::optional<JobRecord> View::job(std::string_view ds, std::string_view job) {
  const JobRecord* j = find_job(ds, job);
  return j ? std::optional<JobRecord>(*j) : std::nullopt;
}

const JobRecord* View::find_job(std::string_view ds, std::string_view job) {
  set_key(ds, job);
  if (auto it = jobs_.find(std::string_view(key_)); it != jobs_.end()) return it->second ? &*it->second : nullptr;
  std::optional<JobRecord> j;
  if (auto order = kv_.get(Table::job_ids, key_)) {
    auto v = kv_.get(Table::jobs, join(ds, *order));
    if (!v) throw std::runtime_error("corrupt store: job_ids points at a missing job record");
    j = must(codec::decode_job_record(*v), "job record");
  }
  auto& cached = cache_job(ds, job, std::move(j));
  return cached ? &*cached : nullptr;
}

std::optional<JobRecord>& View::cache_job(std::string_view ds, std::string_view job, std::optional<JobRecord> j) {
  set_key(ds, job);
  auto it = jobs_.find(std::string_view(key_));
  if (it != jobs_.end()) {
    it->second = std::move(j);
    return it->second;
  }
  // A fold of a whole log reads every job once: keep the cache a turn's worth.
  if (jobs_.size() >= kJobCacheMax) jobs_.clear();
  return jobs_.emplace(key_, std::move(j)).first->second;
}

void View::set_key(std::string_view a, std::string_view b) {
  key_.assign(a);
  key_.push_back('\0');
  key_.append(b);
}

std::optional<Tombstone> View::tombstone(std::string_view ds, std::string_view job) {
  auto v = kv_.get(Table::tombstones, join(ds, job));
  if (!v) return std::nullopt;
  return must(codec::decode_tombstone(*v), "tombstone");
}

void View::put_tombstone(std::string_view ds, std::string_view job, const Tombstone& t) {
  kv_.put(Table::tombstones, join(ds, job), codec::encode(t));
}

void View::erase_tombstone(std::string_view ds, std::string_view job) { kv_.erase(Table::tombstones, join(ds, job)); }

Micros View::log_trimmed_through() {
  auto v = kv_.get(Table::meta, "log_trimmed_through");
  return v && v->size() == 8 ? from_be64(*v) : 0;
}

std::optional<KeyState> View::key_state(std::string_view ds, std::string_view key) {
  auto v = kv_.get(Table::keys, join(ds, key));
  if (!v) return std::nullopt;
  return must(codec::decode_key_state(*v), "key state");
}

void View::put_key_state(std::string_view ds, std::string_view key, const KeyState& k) {
  kv_.put(Table::keys, join(ds, key), codec::encode(k));
}

void View::index_request(std::string_view ds, Micros ts, std::uint64_t seq) {
  kv_.put(Table::ds_requests, join(ds, be64(ts)), be64(seq));
}

RequestEntry View::entry_from_log(std::string_view ds, Micros ts, std::uint64_t seq) {
  auto ev = log_event(ts);
  if (!ev) throw std::runtime_error("corrupt store: request index points at a missing log entry");
  RequestEntry e;
  e.datasource = std::string(ds);
  e.type = ev->type == EventType::submit ? "request" : "cancel";
  e.job = ev->job;
  e.client = ev->client;
  if (ev->type == EventType::submit) {
    e.request = ev->request.value_or(Any{std::string(1, '\xc0')});  // nil comes back absent
    e.options = ev->options;  // as published live: since/latest must match the topic
  }
  e.timestamp = ts;
  e.seq = seq;
  return e;
}

std::vector<RequestEntry> View::requests_since(std::string_view ds, Micros from, std::uint32_t limit,
                                               bool& more) {
  std::vector<std::pair<Micros, std::uint64_t>> hits;
  const std::string prefix = join(ds, "");
  more = false;
  kv_.scan(Table::ds_requests, prefix + be64(from), [&](std::string_view k, std::string_view v) {
    if (!k.starts_with(prefix)) return false;
    if (hits.size() == limit) {
      more = true;
      return false;
    }
    hits.emplace_back(from_be64(k.substr(prefix.size())), from_be64(v));
    return true;
  });
  std::vector<RequestEntry> out;
  out.reserve(hits.size());
  std::size_t bytes = 0;
  for (auto [ts, seq] : hits) {
    auto e = entry_from_log(ds, ts, seq);
    // The reply's byte budget: the entries left come with the next call.
    const std::size_t n = 256 + e.job.size() + e.client.size() + (e.request ? e.request->msgpack.size() : 0) +
                          (e.options ? e.options->key.size() + e.options->custom_status.size() + 128 : 0);
    if (bytes != 0 && bytes + n > codec::Limits::reply_items) {
      more = true;
      break;
    }
    bytes += n;
    out.push_back(std::move(e));
  }
  return out;
}

std::optional<RequestEntry> View::latest_request(std::string_view ds) {
  std::string upper(ds);
  upper.push_back('\x01');  // just past every "ds NUL ..." key
  auto e = kv_.last_before(Table::ds_requests, upper);
  const std::string prefix = join(ds, "");
  if (!e || !std::string_view(e->first).starts_with(prefix)) return std::nullopt;
  return entry_from_log(ds, from_be64(std::string_view(e->first).substr(prefix.size())), from_be64(e->second));
}

std::uint64_t View::client_seq(std::string_view client) { return client_seqs_.get(kv_, client); }

void View::add_notice(StatusNotice& n) {
  n.seq = client_seq(n.data.client) + 1;
  client_seqs_.set(kv_, n.data.client, n.seq);
  std::string bytes = codec::encode(n);
  key_.assign(be64(n.timestamp));  // notice_times: be64(timestamp) client NUL be64(seq)
  key_.append(n.data.client).push_back('\0');
  key_.append(be64(n.seq));
  const std::string_view key = std::string_view(key_).substr(8);
  kv_.put(Table::client_notices, key, bytes);
  kv_.put(Table::notice_times, key_, "");
  notice_bytes_total_ += bytes.size();
  size_dirty_ = true;
  if (notice_bytes_.size() >= kNoticeBytesMax) notice_bytes_.clear();
  notice_bytes_.insert_or_assign(std::string(key), std::move(bytes));
}

void View::erase_notice(std::string_view key) {
  if (auto v = kv_.get(Table::client_notices, key)) {
    notice_bytes_total_ -= std::min<std::uint64_t>(notice_bytes_total_, v->size());
    size_dirty_ = true;
    kv_.erase(Table::client_notices, key);
  }
}

std::string View::take_notice_bytes(const StatusNotice& n) {
  set_key(n.data.client, be64(n.seq));
  auto it = notice_bytes_.find(std::string_view(key_));
  if (it == notice_bytes_.end()) return {};
  std::string bytes = std::move(it->second);
  notice_bytes_.erase(it);
  return bytes;
}

std::vector<StatusNotice> View::notices_since(std::string_view client, std::uint64_t from,
                                              std::uint32_t limit, bool& more) {
  std::vector<StatusNotice> out;
  const std::string prefix = join(client, "");
  more = false;
  std::size_t bytes = 0;  // the reply's byte budget, on the stored (encoded) notices
  kv_.scan(Table::client_notices, prefix + be64(from), [&](std::string_view k, std::string_view v) {
    if (!k.starts_with(prefix)) return false;
    if (out.size() == limit || (bytes != 0 && bytes + v.size() > codec::Limits::reply_items)) {
      more = true;
      return false;
    }
    bytes += v.size();
    out.push_back(must(codec::decode_status_notice(v), "status notice"));
    return true;
  });
  return out;
}

std::optional<Event> View::log_event(Micros ts) {
  auto v = kv_.get(Table::log, be64(ts));
  if (!v) return std::nullopt;
  return must(codec::decode_event(*v), "log event");
}

}  // namespace ledgerq::domain
