#include "view.hpp"

#include <stdexcept>

#include "codec/codec.hpp"

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

namespace {

constexpr std::string_view kLastTs = "last_ts";

std::string join(std::string_view a, std::string_view b) {
  std::string k;
  k.reserve(a.size() + 1 + b.size());
  k.append(a);
  k.push_back('\0');
  k.append(b);
  return k;
}

// A stored value that does not decode means the store is corrupt or of a
// format we do not read: that ends the process, never a reply.
template <class T> T must(Result<T> r, const char* what) {
  if (!r) throw std::runtime_error(std::string("corrupt store: ") + what + ": " + r.error().message);
  return std::move(r).value();
}

}  // namespace

View::View(Kv& kv) : kv_(kv) {
  if (auto v = kv_.get(Table::meta, kLastTs)) last_ts_ = from_be64(*v);
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

void View::flush() {
  if (clock_dirty_) kv_.put(Table::meta, kLastTs, be64(last_ts_));
  clock_dirty_ = false;
}

std::optional<DatasourceRecord> View::datasource(std::string_view ds) {
  auto v = kv_.get(Table::datasources, ds);
  if (!v) return std::nullopt;
  return must(codec::decode_datasource_record(*v), "datasource record");
}

void View::put_datasource(std::string_view ds, const DatasourceRecord& r) {
  kv_.put(Table::datasources, ds, codec::encode(r));
}

std::vector<DatasourceInfo> View::datasources() {
  std::vector<DatasourceInfo> out;
  kv_.scan(Table::datasources, "", [&](std::string_view k, std::string_view v) {
    auto r = must(codec::decode_datasource_record(v), "datasource record");
    out.push_back(DatasourceInfo{std::string(k), r.created, r.seq});
    return true;
  });
  return out;
}

void View::erase_datasource(std::string_view ds) {
  kv_.erase(Table::datasources, ds);
  kv_.erase_prefix(Table::jobs, join(ds, ""));
  kv_.erase_prefix(Table::ds_requests, join(ds, ""));
}

std::optional<JobRecord> View::job(std::string_view ds, std::string_view job) {
  auto v = kv_.get(Table::jobs, join(ds, job));
  if (!v) return std::nullopt;
  return must(codec::decode_job_record(*v), "job record");
}

void View::put_job(std::string_view ds, const JobRecord& j) {
  kv_.put(Table::jobs, join(ds, j.state.job), codec::encode(j));
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
  if (ev->type == EventType::submit) e.request = ev->request;
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
  for (auto [ts, seq] : hits) out.push_back(entry_from_log(ds, ts, seq));
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

std::uint64_t View::client_seq(std::string_view client) {
  auto v = kv_.get(Table::clients, client);
  return v ? from_be64(*v) : 0;
}

void View::add_notice(StatusNotice& n) {
  n.seq = client_seq(n.data.client) + 1;
  kv_.put(Table::clients, n.data.client, be64(n.seq));
  kv_.put(Table::client_notices, join(n.data.client, be64(n.seq)), codec::encode(n));
}

std::vector<StatusNotice> View::notices_since(std::string_view client, std::uint64_t from,
                                              std::uint32_t limit, bool& more) {
  std::vector<StatusNotice> out;
  const std::string prefix = join(client, "");
  more = false;
  kv_.scan(Table::client_notices, prefix + be64(from), [&](std::string_view k, std::string_view v) {
    if (!k.starts_with(prefix)) return false;
    if (out.size() == limit) {
      more = true;
      return false;
    }
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
