// Access control of the dashboard (access.hpp).
#include "access.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <fstream>

namespace ledgerq::web {

ListenAddress parse_listen(std::string_view text) {
  const auto bad = [&](const std::string& why) {
    return ConfigError("--listen '" + std::string(text) + "': " + why + " (expected HOST:PORT, e.g. 127.0.0.1:8080)");
  };
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) throw bad("no port");
  std::string_view host = text.substr(0, colon), port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  else if (host.find(':') != std::string_view::npos) throw bad("an IPv6 address goes in brackets");
  if (host.empty()) throw bad("no host");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) throw bad("bad port");
  return {std::string(host), static_cast<std::uint16_t>(value)};
}

bool is_loopback(std::string_view host) {
  return host == "localhost" || host == "::1" || (host.starts_with("127.") && host.find_first_not_of("0123456789.") ==
                                                                                  std::string_view::npos);
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  const auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + static_cast<std::size_t>(k)];
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        v[k] = 0;
        ++pad;
      } else if (pad > 0 || (v[k] = value(c)) < 0) {
        return std::nullopt;  // a character after padding, or not base64
      }
    }
    const unsigned n = static_cast<unsigned>(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
    out += static_cast<char>(n >> 16 & 0xff);
    if (pad < 2) out += static_cast<char>(n >> 8 & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

BasicAuth BasicAuth::from_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw ConfigError("--auth-file '" + path + "': cannot read it");
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    throw ConfigError("--auth-file '" + path + "': group or others may read it; it holds passwords (chmod 600)");
  std::ifstream in(path);
  if (!in) throw ConfigError("--auth-file '" + path + "': cannot read it");
  BasicAuth auth;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos || colon == 0)
      throw ConfigError("--auth-file '" + path + "' line " + std::to_string(number) + ": expected user:password");
    auth.credentials_.push_back(line);
  }
  if (auth.credentials_.empty()) throw ConfigError("--auth-file '" + path + "': no user:password line");
  return auth;
}

bool BasicAuth::allows(std::string_view authorization) const {
  constexpr std::string_view scheme = "Basic ";
  if (!authorization.starts_with(scheme)) return false;
  const auto given = base64_decode(authorization.substr(scheme.size()));
  if (!given) return false;
  // Every entry is compared over the longer of the two lengths, without an
  // early exit, so the time taken depends only on the lengths involved.
  bool any = false;
  for (const std::string& want : credentials_) {
    const std::size_t n = std::max(want.size(), given->size());
    unsigned char diff = want.size() == given->size() ? 0 : 1;
    for (std::size_t i = 0; i < n; ++i) {
      const unsigned char a = i < want.size() ? static_cast<unsigned char>(want[i]) : 0;
      const unsigned char b = i < given->size() ? static_cast<unsigned char>((*given)[i]) : 0;
      diff |= static_cast<unsigned char>(a ^ b);
    }
    any |= diff == 0;
  }
  return any;
}

bool host_allowed(std::string_view host_header, const ListenAddress& listen, bool any_host) {
  if (any_host) return true;
  // Host is "name" or "name:port" ("[v6]:port"); only the name matters.
  std::string_view name = host_header;
  if (name.starts_with("[")) {
    const auto close = name.find(']');
    if (close == std::string_view::npos) return false;
    name = name.substr(1, close - 1);
  } else if (const auto colon = name.rfind(':'); colon != std::string_view::npos) {
    name = name.substr(0, colon);
  }
  return is_loopback(name) || name == listen.host;
}

}  // namespace ledgerq::web
