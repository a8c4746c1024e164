// Output: JSON for scripts, aligned text and tables for people. The text
// renderer is generic over keys (it walks the JSON of the reply), so fields
// a newer broker adds are printed without a change here.
#include <algorithm>
#include <ctime>
#include <iostream>
#include <set>
#include <vector>

#include "cli.hpp"
#include "codec/time_text.hpp"

namespace ledgerq::cli {
namespace {

// Keys whose integer values are broker times (µs since the epoch).
// `key` is the dotted path from the reply's top ("counts.submitted" is a
// number of jobs, "status.submitted" a time).
bool is_time_key(std::string_view key) {
  static const std::set<std::string_view> keys = {"now",       "started",    "submitted",      "updated",
                                                  "run_after", "lease_until", "timestamp",     "created",
                                                  "log_first", "oldest_pending", "at"};
  if (key.starts_with("counts.") || key.find(".counts.") != std::string_view::npos) return false;
  const auto dot = key.rfind('.');
  return keys.contains(dot == std::string_view::npos ? key : key.substr(dot + 1));
}

bool is_bytes_key(std::string_view key) {
  return key == "log_bytes" || key == "notice_bytes" || key == "map_size" || key == "map_used" ||
         key == "map_limit";
}

// Bodies are shown as compact JSON, never flattened.
bool is_body_key(std::string_view key) { return key == "request" || key == "response"; }

// Times as every ledgerq program prints them (RFC 3339, UTC, microseconds).
std::string format_time(std::uint64_t us) { return us == 0 ? "-" : codec::format_time(us); }

std::string format_bytes(std::uint64_t n) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  char buf[64];
  if (u == 0) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  else std::snprintf(buf, sizeof buf, "%llu (%.1f %s)", static_cast<unsigned long long>(n), v, units[u]);
  return buf;
}

// Control characters would break the table's lines.
std::string printable(std::string s) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  return s;
}

std::string scalar(const std::string& key, const json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) {
    const auto s = v.get<std::string>();
    return s.empty() ? "-" : printable(s);
  }
  if (v.is_number_unsigned() && is_time_key(key)) return format_time(v.get<std::uint64_t>());
  if (v.is_number_unsigned() && is_bytes_key(key)) return format_bytes(v.get<std::uint64_t>());
  if (v.is_array() && !is_body_key(key)) {
    if (v.empty()) return "-";
    std::string out;
    for (const auto& e : v) out += (out.empty() ? "" : ", ") + (e.is_string() ? printable(e.get<std::string>()) : json_text(e));
    return out;
  }
  return printable(json_text(v));
}

bool is_table(const json& v) {
  return v.is_array() && !v.empty() && std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_object(); });
}

// An object's fields as (dotted key, value) pairs; nested objects flattened.
void flatten(const json& o, const std::string& prefix, std::vector<std::pair<std::string, json>>& out) {
  for (const auto& [k, v] : o.items()) {
    const std::string key = prefix + k;
    if (v.is_object() && !is_body_key(k) && !v.empty()) flatten(v, key + ".", out);
    else out.emplace_back(key, v);
  }
}

std::string cut(const std::string& s, std::size_t width = 60) {
  return s.size() <= width ? s : s.substr(0, width - 3) + "...";
}

// The columns a table of jobs shows (the rest is in --json); a job's
// token is what an ack of it needs (`ledgerq dequeue`).
const std::vector<std::string> kJobColumns = {"job",    "client", "status", "priority", "attempts_made",
                                              "attempts", "type", "key",    "worker",   "token",
                                              "custom_status", "updated", "error"};

void print_table(const std::string& name, const json& rows) {
  std::vector<std::vector<std::pair<std::string, json>>> flat;
  std::vector<std::string> columns;
  for (const auto& r : rows) {
    flat.emplace_back();
    flatten(r, "", flat.back());
    for (const auto& [k, v] : flat.back())
      if (std::find(columns.begin(), columns.end(), k) == columns.end()) columns.push_back(k);
  }
  if (name == "jobs") {
    std::vector<std::string> chosen;
    for (const auto& c : kJobColumns)
      if (std::find(columns.begin(), columns.end(), c) != columns.end()) chosen.push_back(c);
    columns = chosen;
  }
  // Headers: the last part of a dotted key when that is unambiguous.
  std::vector<std::string> headers;
  for (const auto& c : columns) {
    const auto dot = c.rfind('.');
    std::string h = dot == std::string::npos ? c : c.substr(dot + 1);
    const bool unique = std::count_if(columns.begin(), columns.end(), [&](const std::string& o) {
                          const auto d = o.rfind('.');
                          return (d == std::string::npos ? o : o.substr(d + 1)) == h;
                        }) == 1;
    headers.push_back(unique ? h : c);
  }
  std::vector<std::vector<std::string>> cells;
  for (const auto& r : flat) {
    cells.emplace_back();
    for (const auto& c : columns) {
      auto it = std::find_if(r.begin(), r.end(), [&](const auto& kv) { return kv.first == c; });
      cells.back().push_back(it == r.end() ? "-" : cut(scalar(name + "." + c, it->second)));
    }
  }
  std::vector<std::size_t> width(columns.size());
  for (std::size_t i = 0; i < columns.size(); ++i) {
    width[i] = headers[i].size();
    for (const auto& row : cells) width[i] = std::max(width[i], row[i].size());
  }
  auto line = [&](const std::vector<std::string>& v) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
      out += v[i];
      if (i + 1 < v.size()) out += std::string(width[i] - v[i].size() + 2, ' ');
    }
    std::cout << out << "\n";
  };
  std::vector<std::string> upper;
  for (auto h : headers) {
    std::transform(h.begin(), h.end(), h.begin(), [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    upper.push_back(h);
  }
  line(upper);
  for (const auto& row : cells) line(row);
}

}  // namespace

std::string json_text(const json& j, int indent) { return j.dump(indent, ' ', false, json::error_handler_t::replace); }

void print_json(const json& j, const Settings& s) {
  std::cout << json_text(j, s.stdout_is_tty ? 2 : -1) << std::endl;
}

namespace {
// `path`: where `j` is in the reply ("" at the top), for is_time_key.
void print_object(const json& j, const std::string& path) {
  if (!j.is_object()) {
    if (is_table(j)) print_table("rows", j);
    else std::cout << scalar(path, j) << "\n";
    return;
  }
  // A reply of one record ({"status": {...}}) or one table ({"jobs": [...]})
  // is shown as that record or table.
  if (j.size() == 1) {
    // (Not `*j.items().begin()`: that binds to a proxy that dies with the
    // statement; AddressSanitizer caught it.)
    const auto it = j.begin();
    const std::string& k = it.key();
    const json& v = it.value();
    if (v.is_object() && !is_body_key(k)) return print_object(v, path + k + ".");
    if (is_table(v)) return print_table(k, v);
  }
  std::vector<std::pair<std::string, json>> rows;
  std::vector<std::pair<std::string, json>> tables;
  for (const auto& [k, v] : j.items()) {
    if (is_table(v)) tables.emplace_back(k, v);
    else if (v.is_object() && !is_body_key(k) && !v.empty()) flatten(v, k + ".", rows);
    else rows.emplace_back(k, v);
  }
  std::size_t width = 0;
  for (const auto& [k, v] : rows) width = std::max(width, k.size());
  for (const auto& [k, v] : rows) std::cout << k << std::string(width - k.size() + 2, ' ') << scalar(path + k, v) << "\n";
  for (const auto& [k, v] : tables) {
    std::cout << "\n" << k << ":\n";
    print_table(k, v);
  }
}
}  // namespace

void print_text(const json& j) { print_object(j, ""); }

std::string record_line(const json& r) {
  auto get = [&](const char* k) { return r.contains(k) ? scalar(k, r[k]) : std::string("-"); };
  std::string line = get("updated") + "  " + get("job") + "  " + get("status");
  if (r.contains("worker")) line += "  worker=" + get("worker");
  if (r.value("cancel_requested", false)) line += "  cancel_requested";
  if (r.contains("custom_status")) line += "  custom_status=" + get("custom_status");
  if (r.contains("error") && r["error"] != "") line += "  error=" + get("error");
  if (r.contains("response")) line += "  response=" + cut(json_text(r["response"]), 200);
  return line;
}

void print(const json& j, const Settings& s) {
  if (s.format == Format::as_json) print_json(j, s);
  else print_text(j);
}

}  // namespace ledgerq::cli
