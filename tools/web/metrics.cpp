// Prometheus exposition of the broker's figures (metrics.hpp). Names follow
// the Prometheus conventions: the ledgerq_ prefix, base units in the name
// (_bytes, _seconds), _total on counters, one HELP and one TYPE line per
// family before its samples.
#include "metrics.hpp"

#include <charconv>
#include <cstdint>
#include <vector>

#include "codec/statuses.hpp"

namespace ledgerq::web {

using tools::json;

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

using Labels = std::vector<std::pair<std::string_view, std::string>>;

std::string number(std::uint64_t v) { return std::to_string(v); }

// Shortest text that reads back as the same double.
std::string number(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("NaN");
}

std::uint64_t u64(const json& j, const char* key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

double seconds_from_us(std::uint64_t us) { return static_cast<double>(us) / 1e6; }

class Exposition {
 public:
  // A family's HELP and TYPE lines; its samples follow with sample().
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;  // our own text: no backslash or newline to escape
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(std::string_view name, const Labels& labels, const std::string& value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i) out_ += ',';
        out_ += labels[i].first;
        out_ += "=\"";
        out_ += escape_label_value(labels[i].second);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }
  // A family of one unlabelled sample.
  void single(std::string_view name, std::string_view type, std::string_view help, const std::string& value) {
    family(name, type, help);
    sample(name, {}, value);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::string render_metrics(const std::optional<json>& stats, const std::optional<json>& ds_list) {
  Exposition e;
  e.single("ledgerq_up", "gauge", "1 when the broker answered this scrape's stats, 0 otherwise.",
           stats ? "1" : "0");
  if (!stats) return e.take();
  const json& s = *stats;

  e.family("ledgerq_build_info", "gauge", "The broker's release and protocol version; always 1.");
  e.sample("ledgerq_build_info", {{"version", s.value("release", "")}, {"protocol", number(u64(s, "version"))}}, "1");
  e.single("ledgerq_start_time_seconds", "gauge", "When the broker process started, seconds since the Unix epoch.",
           number(seconds_from_us(u64(s, "started"))));

  struct Counter {
    const char* name;
    const char* key;
    const char* help;
  };
  static const Counter kCounters[] = {
      {"ledgerq_requests_total", "requests",
       "Requests received on the ROUTER. rate(requests)/rate(transactions) is the group-commit size."},
      {"ledgerq_transactions_total", "transactions", "Write transactions committed, for requests and timers."},
      {"ledgerq_bad_requests_total", "bad_requests", "Requests answered 4xx before reaching the state machine."},
      {"ledgerq_parked_dequeues_total", "parked", "Dequeues parked to wait for a job."},
      {"ledgerq_leases_expired_total", "expired", "Leases that expired."},
      {"ledgerq_jobs_collected_total", "collected", "Finished jobs collected by retention."},
      {"ledgerq_log_entries_trimmed_total", "trimmed", "Log entries trimmed by retention."},
  };
  for (const auto& c : kCounters) e.single(c.name, "counter", c.help, number(u64(s, c.key)));
  e.single("ledgerq_apply_seconds_total", "counter", "Time spent applying requests and timers inside transactions.",
           number(seconds_from_us(u64(s, "apply_us"))));
  e.single("ledgerq_commit_seconds_total", "counter", "Time spent committing transactions (page writes and syncs).",
           number(seconds_from_us(u64(s, "commit_us"))));

  e.single("ledgerq_log_entries", "gauge", "Entries in the log now.", number(u64(s, "log_entries")));
  e.single("ledgerq_log_bytes", "gauge", "Bytes of the log's values now.", number(u64(s, "log_bytes")));
  e.single("ledgerq_notice_bytes", "gauge", "Bytes of the stored status notices now.", number(u64(s, "notice_bytes")));
  e.single("ledgerq_map_size_bytes", "gauge", "Size of the LMDB map.", number(u64(s, "map_size")));
  e.single("ledgerq_map_used_bytes", "gauge", "Bytes of the LMDB map up to the last page written.",
           number(u64(s, "map_used")));
  if (s.contains("map_limit"))  // a broker that does not report it leaves it out: no false 0
    e.single("ledgerq_map_limit_bytes", "gauge", "The most the LMDB map can grow to now; writes fail beyond it.",
             number(u64(s, "map_limit")));
  e.single("ledgerq_peers", "gauge", "Connections to the ROUTER now.", number(u64(s, "peers")));
  e.family("ledgerq_subscriptions", "gauge", "Subscriptions held on each publish socket now.");
  e.sample("ledgerq_subscriptions", {{"socket", "status"}}, number(u64(s, "status_subscriptions")));
  e.sample("ledgerq_subscriptions", {{"socket", "requests"}}, number(u64(s, "request_subscriptions")));

  const json datasources = s.value("datasources", json::array());
  const std::uint64_t now = u64(s, "now");
  e.family("ledgerq_jobs", "gauge", "Jobs in the view by datasource and status.");
  for (const auto& d : datasources) {
    const std::string ds = d.value("datasource", "");
    const json counts = d.value("counts", json::object());
    for (const JobStatus status : kJobStatuses) {
      const std::string st(status_name(status));
      e.sample("ledgerq_jobs", {{"datasource", ds}, {"status", st}}, number(u64(counts, st.c_str())));
    }
  }
  e.family("ledgerq_oldest_pending_age_seconds", "gauge",
           "How long the longest-waiting eligible job has waited (0 when none), by datasource.");
  for (const auto& d : datasources) {
    const std::uint64_t oldest = u64(d, "oldest_pending");
    const std::uint64_t age = oldest != 0 && now > oldest ? now - oldest : 0;
    e.sample("ledgerq_oldest_pending_age_seconds", {{"datasource", d.value("datasource", "")}},
             number(seconds_from_us(age)));
  }
  e.family("ledgerq_submitted_last_minute", "gauge", "Jobs submitted in the last 60 seconds, by datasource.");
  for (const auto& d : datasources)
    e.sample("ledgerq_submitted_last_minute", {{"datasource", d.value("datasource", "")}}, number(u64(d, "submitted_1m")));
  e.family("ledgerq_completed_last_minute", "gauge", "Jobs completed in the last 60 seconds, by datasource.");
  for (const auto& d : datasources)
    e.sample("ledgerq_completed_last_minute", {{"datasource", d.value("datasource", "")}}, number(u64(d, "completed_1m")));

  if (ds_list) {
    e.family("ledgerq_datasource_paused", "gauge", "1 when the datasource is paused (dequeues lease nothing).");
    for (const auto& d : ds_list->value("datasources", json::array())) {
      const json options = d.value("options", json::object());
      const bool paused = options.is_object() && options.value("paused", false);
      e.sample("ledgerq_datasource_paused", {{"datasource", d.value("datasource", "")}}, paused ? "1" : "0");
    }
  }
  return e.take();
}

}  // namespace ledgerq::web
