// Who may reach the dashboard: the listen address, HTTP Basic auth from an
// auth file, and the Host check that keeps other web sites out of a
// dashboard on loopback. Pure functions over strings, except reading the
// auth file.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ledgerq::web {

/// A bad flag or file: the message says which and why.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// --listen HOST:PORT; an IPv6 host in brackets ("[::1]:8080"). Port 0
/// asks for any free port.
struct ListenAddress {
  std::string host;  ///< without brackets
  std::uint16_t port = 0;
};
/// Throws ConfigError for a text that is not HOST:PORT.
ListenAddress parse_listen(std::string_view text);

/// Whether `host` names this machine only (127.0.0.0/8, ::1, localhost):
/// other machines cannot connect to it.
bool is_loopback(std::string_view host);

/// The users of --auth-file: "user:password" lines; blank lines and lines
/// beginning with '#' are ignored.
class BasicAuth {
 public:
  /// Reads `path`. Throws ConfigError when it cannot be read, is readable
  /// by group or others (it holds passwords), has a line without ':' or an
  /// empty user, or names no user.
  static BasicAuth from_file(const std::string& path);
  /// Whether an Authorization header's value grants access. Takes the same
  /// time whichever user or byte is wrong (no early exit), so that timing
  /// does not reveal a password's prefix.
  bool allows(std::string_view authorization) const;

 private:
  std::vector<std::string> credentials_;  ///< "user:password", as a client sends them
};

/// Whether a request's Host header is one a browser sends for this
/// dashboard. On loopback without auth, a page of another site that
/// re-binds its own name to 127.0.0.1 (DNS rebinding) sends its own name as
/// Host: refusing any name but loopback ones keeps it out.
bool host_allowed(std::string_view host_header, const ListenAddress& listen, bool any_host);

/// Base64 decoding (RFC 4648, padding required); nullopt for bad text.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace ledgerq::web
