#include "time_text.hpp"

#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

namespace ledgerq::codec {
namespace {

constexpr std::string_view kForms =
    "use microseconds since the epoch, RFC 3339 (2024-05-01T12:00:00Z), \"now\", or a time "
    "before now such as -5m, -90s, -2h, -1d";

Error bad(std::string msg) { return Error{Code::bad_request, std::move(msg)}; }

// Reads exactly `n` digits at `pos`; nullopt if they are not all digits.
std::optional<int> digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

Result<Micros> parse_rfc3339(std::string_view s) {
  using namespace std::chrono;
  const Error err = bad("'" + std::string(s) + "' is not a time: " + std::string(kForms));
  auto y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  if (!y || !mo || !d || s[4] != '-' || s[7] != '-') return err;
  const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
  if (!ymd.ok()) return bad("'" + std::string(s) + "': no such date");
  std::int64_t secs = duration_cast<seconds>(sys_days{ymd}.time_since_epoch()).count();
  std::int64_t micros = 0;
  if (s.size() > 10) {
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return err;
    auto h = digits(s, 11, 2), mi = digits(s, 14, 2), se = digits(s, 17, 2);
    if (!h || !mi || !se || s.size() < 19 || s[13] != ':' || s[16] != ':') return err;
    if (*h > 23 || *mi > 59 || *se > 60) return bad("'" + std::string(s) + "': no such time of day");
    secs += *h * 3600 + *mi * 60 + std::min(*se, 59);
    std::size_t pos = 19;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      std::int64_t scale = 100000;
      const std::size_t start = pos;
      while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
        micros += (s[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
      if (pos == start) return err;
    }
    // RFC 3339 requires an offset; a time without one would be ambiguous.
    if (pos >= s.size()) return bad("'" + std::string(s) + "': add a time zone (Z for UTC, or +02:00)");
    if (s[pos] == 'Z' || s[pos] == 'z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      auto oh = digits(s, pos + 1, 2), om = digits(s, pos + 4, 2);
      if (!oh || !om || pos + 3 >= s.size() || s[pos + 3] != ':' || *oh > 23 || *om > 59) return err;
      const std::int64_t off = *oh * 3600 + *om * 60;
      secs += s[pos] == '+' ? -off : off;
      pos += 6;
    } else {
      return err;
    }
    if (pos != s.size()) return err;
  }
  if (secs < 0) return bad("'" + std::string(s) + "' is before the Unix epoch");
  return static_cast<Micros>(secs) * 1'000'000 + static_cast<Micros>(micros);
}

}  // namespace

Result<Micros> parse_duration(std::string_view text) {
  const Error err = bad("'" + std::string(text) +
                        "' is not a duration: use a number and a unit (us, ms, s, m, h, d, w), e.g. 5m, 1h30m, 1.5s");
  if (text.empty()) return err;
  double total = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t start = pos;
    while (pos < text.size() && (std::isdigit(static_cast<unsigned char>(text[pos])) || text[pos] == '.')) ++pos;
    if (pos == start) return err;
    double n = 0;
    const std::string num(text.substr(start, pos - start));
    auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), n);
    if (ec != std::errc{} || end != num.data() + num.size()) return err;
    const std::size_t ustart = pos;
    while (pos < text.size() && std::isalpha(static_cast<unsigned char>(text[pos]))) ++pos;
    const std::string_view unit = text.substr(ustart, pos - ustart);
    double scale = 0;
    if (unit.empty()) {
      if (pos != text.size() || start != 0) return err;  // a bare number only on its own
      scale = 1e6;
    } else if (unit == "us") scale = 1;
    else if (unit == "ms") scale = 1e3;
    else if (unit == "s") scale = 1e6;
    else if (unit == "m") scale = 60e6;
    else if (unit == "h") scale = 3600e6;
    else if (unit == "d") scale = 86400e6;
    else if (unit == "w") scale = 7 * 86400e6;
    else return err;
    total += n * scale;
  }
  if (!std::isfinite(total) || total > 1e18) return bad("'" + std::string(text) + "': duration too long");
  return static_cast<Micros>(std::llround(total));
}

Result<Micros> parse_time(std::string_view text, Micros now) {
  if (text.empty()) return bad("an empty time: " + std::string(kForms));
  if (text == "now") return now;
  if (text.front() == '-') {
    auto d = parse_duration(text.substr(1));
    if (!d) return bad("'" + std::string(text) + "' is not a time: " + std::string(kForms));
    if (*d > now) return bad("'" + std::string(text) + "' is before the Unix epoch");
    return now - *d;
  }
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    Micros v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size())
      return bad("'" + std::string(text) + "': too large for microseconds since the epoch");
    return v;
  }
  return parse_rfc3339(text);
}

std::string format_time(Micros t) {
  using namespace std::chrono;
  const sys_time<microseconds> tp{microseconds{static_cast<std::int64_t>(t)}};
  const auto day = floor<days>(tp);
  const year_month_day ymd{day};
  const hh_mm_ss hms{tp - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%06lldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()), static_cast<long long>(hms.subseconds().count()));
  return buf;
}

}  // namespace ledgerq::codec
