#include "output.hpp"

#include <algorithm>

#include "codec/codec.hpp"
#include "json.hpp"
#include "codec/time_text.hpp"

namespace ledgerq::replay {
namespace {

constexpr std::size_t kMaxValue = 80;  ///< text form: longer values are cut

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

// A peer's string as the text form shows it: as it is when that is safe
// on a terminal, else as the broker's log quotes it (control characters
// and bytes that are not UTF-8 as \xNN, so an id cannot forge a line or
// send escape sequences).
std::string safe(const std::string& s) {
  std::string q = codec::quote(s);
  return q.size() == s.size() + 2 ? s : q;
}

// A JSON value as text: strings bare unless they need quotes, bodies compact.
std::string show(const tools::json& v) {
  std::string s;
  if (v.is_string()) {
    s = v.get<std::string>();
    if (const std::string q = safe(s); q != s) s = q;
    else if (s.empty() || s.find_first_of(" \t\"=") != std::string::npos) s = v.dump();
  } else {
    s = v.dump(-1, ' ', false, tools::json::error_handler_t::replace);
  }
  if (s.size() > kMaxValue) s = s.substr(0, kMaxValue - 3) + "...";
  return s;
}

bool is_time_field(const std::string& k) { return k == "run_after" || k == "lease_until"; }

}  // namespace

std::string Printer::line(Micros ts, const Event& e) {
  const tools::json ev = tools::to_json(e);
  if (format_ == Format::json) {
    tools::json o = tools::json::object();
    o["ts"] = ts;
    o["time"] = codec::format_time(ts);
    for (const auto& [k, v] : ev.items()) o[k] = v;
    return o.dump(-1, ' ', false, tools::json::error_handler_t::replace);
  }
  const std::string job = e.job.empty() ? "-" : safe(e.job);
  ds_width_ = std::max(ds_width_, e.datasource.size());
  job_width_ = std::max(job_width_, job.size());
  std::string s = codec::format_time(ts) + "  " + pad(std::string(event_type_name(e.type)), 12) + " " +
                  pad(e.datasource, ds_width_) + "  " + pad(job, job_width_);
  for (const auto& [k, v] : ev.items()) {
    if (k == "type" || k == "datasource" || k == "job") continue;
    s += "  " + k + "=";
    s += is_time_field(k) && v.is_number_unsigned() && v.get<Micros>() != 0 ? codec::format_time(v.get<Micros>())
                                                                             : show(v);
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

void Printer::entry(Micros ts, const Event& e) {
  std::string s = line(ts, e);
  s.push_back('\n');
  std::fwrite(s.data(), 1, s.size(), out_);
}

}  // namespace ledgerq::replay
