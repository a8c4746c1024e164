// Who may do what: the principals a secure broker admits and the rules of
// PROTOCOL.md §14's role table. Pure: the transport resolves a connection's
// CURVE key to a Principal (ZAP, User-Id) and hands it here with each
// command; the domain never sees keys or sockets.
//
// A broker without security (development mode, loopback only) passes no
// principal at all: every command is allowed and the body's `client` is
// believed, as in PROTOCOL.md §14 "Plain mode".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codec/messages.hpp"

namespace ledgerq::domain {

/// A principal's role (PROTOCOL.md §14.3).
enum class Role : std::uint8_t {
  client,  ///< submits, cancels and follows its own jobs; `name` is its client id
  worker,  ///< drives or works the datasources it `serves`; leases carry its `name`
  reader,  ///< reads everything, changes nothing (dashboards, tools)
  admin,   ///< everything, datasource and repair commands included
};

std::string_view role_name(Role r) noexcept;
std::optional<Role> parse_role(std::string_view name) noexcept;

/// One admitted identity. Immutable once loaded; the transport swaps whole
/// tables on reload.
struct Principal {
  /// 1..128 printable ASCII bytes, no space, no ':' (a worker's leases are
  /// `name` or `name:anything`, so ':' would let one name own another's).
  std::string name;
  Role role = Role::client;
  /// worker only: datasource names, or prefixes ending in '*' ("img-*"), or
  /// "*" for every datasource.
  std::vector<std::string> datasources;

  /// Whether this principal drives/works datasource `ds`.
  [[nodiscard]] bool serves(std::string_view ds) const;
  /// Whether a lease recorded for `worker` (StatusRecord.worker) is this
  /// principal's: `worker` is its name or begins with "name:".
  [[nodiscard]] bool owns_lease(std::string_view worker) const;
};

/// Why `name` cannot be a principal's name, or nullopt when it can.
std::optional<std::string> check_principal_name(std::string_view name);
/// Why `pattern` cannot be a worker's datasource pattern, or nullopt.
std::optional<std::string> check_ds_pattern(std::string_view pattern);

/// The role table: nullopt when `who` may run `c`, else the 403 to answer,
/// its message naming the rule. Fills in what the principal implies (a
/// client's scan is narrowed to its own jobs). Checks that need the view
/// (whose job, whose lease) are made by the commands themselves, through
/// Context::who.
std::optional<Error> authorize(const Principal& who, Command& c);

/// The two publish sockets (PROTOCOL.md §11).
enum class Feed : std::uint8_t { status, requests };

/// Whether `who` may subscribe to `topic` (the subscription's bytes after
/// its 0x01) on `feed`: a client to its own status topic, a worker to the
/// request topics of its datasources, readers and admins to anything.
/// Prefixes that would match more than that (the empty one, a topic
/// without its terminator) are refused.
[[nodiscard]] bool may_subscribe(const Principal& who, Feed feed, std::string_view topic);

}  // namespace ledgerq::domain
