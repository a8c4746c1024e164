// The role table of PROTOCOL.md §14.3, as code. Each command family asks
// one question of the principal; the answers that need the view (whose job,
// whose lease) are asked by the commands themselves (Context::who).
#include "access.hpp"

#include <array>
#include <cctype>

#include "codec/codec.hpp"

namespace ledgerq::domain {
namespace {

constexpr std::array<std::string_view, 4> kRoleNames{"client", "worker", "reader", "admin"};

using codec::quote;

Error forbidden(std::string msg) { return Error{Code::forbidden, std::move(msg)}; }

// "'ds_create' is for admin principals; 'app-1' is a client".
Error role_refused(const Principal& who, std::string_view command, std::string_view roles) {
  return forbidden(quote(command) + " is for " + std::string(roles) + " principals; " + quote(who.name) +
                   " is a " + std::string(role_name(who.role)));
}

Error not_served(const Principal& who, std::string_view command, std::string_view ds) {
  return forbidden(quote(command) + " on datasource " + quote(ds) + ": worker " + quote(who.name) +
                   " does not serve it");
}

Error other_client(const Principal& who, std::string_view command, std::string_view client) {
  return forbidden(quote(command) + " for client " + quote(client) + ": a client acts only as itself, " +
                   quote(who.name));
}

struct Rules {
  const Principal& who;

  bool admin() const { return who.role == Role::admin; }
  bool reads_all() const { return who.role == Role::admin || who.role == Role::reader; }

  // Admins only: datasource management and repair.
  std::optional<Error> admin_only(std::string_view command) const {
    if (admin()) return std::nullopt;
    return role_refused(who, command, "admin");
  }

  // A client's own jobs (admins act for any client; readers may read).
  std::optional<Error> as_client(std::string_view command, const std::string& client, bool read) const {
    if (admin() || (read && who.role == Role::reader)) return std::nullopt;
    if (who.role != Role::client) return role_refused(who, command, read ? "client, reader or admin" : "client or admin");
    if (client != who.name) return other_client(who, command, client);
    return std::nullopt;
  }

  // A datasource's driver/worker side (readers may read).
  std::optional<Error> as_worker(std::string_view command, const std::string& ds, bool read) const {
    if (admin() || (read && who.role == Role::reader)) return std::nullopt;
    if (who.role != Role::worker) return role_refused(who, command, read ? "worker, reader or admin" : "worker or admin");
    if (!who.serves(ds)) return not_served(who, command, ds);
    return std::nullopt;
  }

  // Introspection of a datasource: its workers and the readers; a client
  // when `client_allowed` (the command keeps to its own jobs).
  std::optional<Error> inspect(std::string_view command, const std::string& ds, bool client_allowed) const {
    if (reads_all()) return std::nullopt;
    if (who.role == Role::client) {
      if (client_allowed) return std::nullopt;
      return role_refused(who, command, "worker, reader or admin");
    }
    if (!who.serves(ds)) return not_served(who, command, ds);
    return std::nullopt;
  }

  std::optional<Error> operator()(cmd::Ping&) const { return std::nullopt; }
  std::optional<Error> operator()(cmd::DsCreate&) const { return admin_only("ds_create"); }
  std::optional<Error> operator()(cmd::DsConfigure&) const { return admin_only("ds_configure"); }
  std::optional<Error> operator()(cmd::DsDelete&) const { return admin_only("ds_delete"); }
  std::optional<Error> operator()(cmd::DsList&) const {
    // A worker sees its own datasources only (machine.cpp filters).
    if (who.role == Role::client) return role_refused(who, "ds_list", "worker, reader or admin");
    return std::nullopt;
  }
  std::optional<Error> operator()(cmd::Submit& c) const { return as_client("submit", c.client, false); }
  std::optional<Error> operator()(cmd::SubmitBatch& c) const { return as_client("submit_batch", c.client, false); }
  std::optional<Error> operator()(cmd::Cancel& c) const { return as_client("cancel", c.client, false); }
  std::optional<Error> operator()(cmd::Status& c) const { return as_client("status", c.client, true); }
  std::optional<Error> operator()(cmd::Missed& c) const { return as_client("missed", c.client, true); }
  std::optional<Error> operator()(cmd::Update& c) const { return as_worker("update", c.datasource, false); }
  std::optional<Error> operator()(cmd::Latest& c) const { return as_worker("latest", c.datasource, true); }
  std::optional<Error> operator()(cmd::Since& c) const { return as_worker("since", c.datasource, true); }
  std::optional<Error> operator()(cmd::Dequeue& c) const {
    // A reader may look (a dry run that acks nothing); leasing is a change.
    const bool read = c.dry_run && c.acks.empty();
    if (auto e = as_worker("dequeue", c.datasource, read)) return e;
    if (read && who.role == Role::reader) return std::nullopt;
    if (!who.owns_lease(c.worker))
      return forbidden("'dequeue' as worker " + quote(c.worker) + ": a lease carries its principal's name, " +
                       quote(who.name) + " or " + quote(who.name + ":...") );
    return std::nullopt;
  }
  std::optional<Error> operator()(cmd::Ack& c) const { return as_worker("ack", c.datasource, false); }
  std::optional<Error> operator()(cmd::Checkpoint& c) const { return as_worker("checkpoint", c.datasource, false); }
  std::optional<Error> operator()(cmd::Lookup& c) const { return inspect("lookup", c.datasource, true); }
  std::optional<Error> operator()(cmd::Count& c) const { return inspect("count", c.datasource, false); }
  std::optional<Error> operator()(cmd::Scan& c) const {
    if (who.role == Role::client) {
      if (c.filter.client.empty()) c.filter.client = who.name;  // a client scans its own jobs
      if (c.filter.client != who.name) return other_client(who, "scan", c.filter.client);
    }
    return inspect("scan", c.datasource, true);
  }
  // A client reads its own jobs' history: the job's owner is checked
  // against the view (history.cpp), as lookup's.
  std::optional<Error> operator()(cmd::History& c) const { return inspect("history", c.datasource, true); }
  std::optional<Error> operator()(cmd::Retry&) const { return admin_only("retry"); }
  std::optional<Error> operator()(cmd::Delete&) const { return admin_only("delete"); }
  std::optional<Error> operator()(cmd::Stats&) const {
    if (reads_all()) return std::nullopt;
    return role_refused(who, "stats", "reader or admin");
  }
};

bool valid_ds_name(std::string_view s) {
  if (s.empty() || s.size() > codec::Limits::max_datasource) return false;
  for (unsigned char ch : s)
    if (!(std::isalnum(ch) || ch == '_' || ch == '.' || ch == '-')) return false;
  return true;
}

}  // namespace

std::string_view role_name(Role r) noexcept { return kRoleNames[static_cast<std::size_t>(r)]; }

std::optional<Role> parse_role(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kRoleNames.size(); ++i)
    if (kRoleNames[i] == name) return static_cast<Role>(i);
  if (name == "driver") return Role::worker;  // the seed's word for the same rights
  return std::nullopt;
}

bool Principal::serves(std::string_view ds) const {
  if (role == Role::admin) return true;
  for (const auto& p : datasources) {
    if (!p.empty() && p.back() == '*') {
      if (ds.substr(0, p.size() - 1) == std::string_view(p).substr(0, p.size() - 1)) return true;
    } else if (p == ds) {
      return true;
    }
  }
  return false;
}

bool Principal::owns_lease(std::string_view worker) const {
  if (worker.size() < name.size() || worker.substr(0, name.size()) != name) return false;
  return worker.size() == name.size() || worker[name.size()] == ':';
}

std::optional<std::string> check_principal_name(std::string_view name) {
  if (name.empty() || name.size() > codec::Limits::max_id) return "a name is 1 to 128 bytes";
  for (unsigned char ch : name) {
    if (ch < 0x21 || ch > 0x7e) return "a name is printable ASCII without spaces";
    if (ch == ':') return "a name must not contain ':' (leases are named 'name:...')";
  }
  return std::nullopt;
}

std::optional<std::string> check_ds_pattern(std::string_view pattern) {
  if (pattern == "*") return std::nullopt;
  std::string_view stem = pattern;
  if (!stem.empty() && stem.back() == '*') stem.remove_suffix(1);
  if (!valid_ds_name(stem))
    return "datasource pattern " + quote(pattern) + ": a datasource name, a prefix ending in '*', or '*'";
  return std::nullopt;
}

std::optional<Error> authorize(const Principal& who, Command& c) { return std::visit(Rules{who}, c); }

bool may_subscribe(const Principal& who, Feed feed, std::string_view topic) {
  if (who.role == Role::admin || who.role == Role::reader) return true;
  // Exactly one topic: its name, then the terminator no name contains.
  if (topic.empty() || topic.back() != '\0') return false;
  const std::string_view name = topic.substr(0, topic.size() - 1);
  if (name.find('\0') != std::string_view::npos) return false;
  if (feed == Feed::status) return who.role == Role::client && name == who.name;
  return who.role == Role::worker && valid_ds_name(name) && who.serves(name);
}

}  // namespace ledgerq::domain
