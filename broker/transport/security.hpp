// The broker's gate (PROTOCOL.md §14): CURVE on its sockets, the ZAP
// handler that admits the principals file's keys, and the principal behind
// each message. Transport only: it hands domain::Principal values to the
// domain and never decides what a principal may do (domain/access.hpp does).
//
// Threads: everything here runs on the broker's loop thread. libzmq's I/O
// threads wait for the ZAP answers, so a handshake takes one loop turn.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <zmq.hpp>

#include "domain/access.hpp"
#include "keys.hpp"

namespace ledgerq::transport {

/// Principals by public key (Z85). Shared: a request keeps its principal
/// while a reload replaces the table.
using Principals = std::map<std::string, std::shared_ptr<const domain::Principal>, std::less<>>;

/// Parses the principals file's text; `origin` names it in messages.
/// Throws keys::KeyError naming the first bad line. The format, one
/// principal a line, fields separated by blanks, '#' starting a comment line:
///   <public key, Z85>  client  <client id>
///   <public key, Z85>  worker  <name>  <datasource, prefix*, or *> [more...]
///   <public key, Z85>  reader  <name>
///   <public key, Z85>  admin   <name>
/// ("driver" is accepted for "worker".) A key appears once. A name may have
/// several keys (to rotate one, or for a pool of machines) with the same
/// role and datasources.
Principals parse_principals(std::string_view text, std::string_view origin);
/// Reads and parses a principals file.
Principals load_principals(const std::filesystem::path& file);

/// What a secure broker needs: its own key pair and the principals file.
struct SecurityOptions {
  keys::KeyPair server;               ///< the broker's CURVE keys
  std::filesystem::path principals;   ///< reread on reload()
};

/// Whether `endpoint` is reachable from this machine only: ipc://,
/// inproc://, or tcp:// on a loopback address (127.0.0.0/8, ::1,
/// localhost, lo).
bool is_local_endpoint(std::string_view endpoint);

class Gate {
 public:
  /// Loads the principals (throws keys::KeyError) and binds the ZAP handler
  /// in `ctx`; do this before binding any socket that secure() sets up.
  Gate(zmq::context_t& ctx, SecurityOptions opts);

  /// Makes `s` a CURVE server that asks this gate's ZAP handler.
  void secure(zmq::socket_t& s) const;

  /// The ZAP socket, for the loop's poll.
  zmq::socket_t& zap() { return zap_; }
  /// Answers every ZAP request waiting: 200 with the key as User-Id for a
  /// key of the principals file, 400 otherwise (logged once a minute per key).
  void answer_zap();

  /// The principal behind a message from a secured socket: null when the
  /// message carries no User-Id (libzmq's own) or its key is no longer
  /// admitted (removed by a reload).
  std::shared_ptr<const domain::Principal> principal_of(const zmq::message_t& m) const;

  /// Rereads the principals file; on error logs why and keeps the old
  /// table. Returns true when the new table took rights away from a key
  /// (removed it, or changed its role or datasources): the caller then cuts
  /// the subscriptions admitted under the old one.
  bool reload();

 private:
  SecurityOptions opts_;
  std::shared_ptr<const Principals> principals_;
  zmq::socket_t zap_;
  // Unknown keys already logged, and when: one line a minute per key.
  std::map<std::string, std::chrono::steady_clock::time_point, std::less<>> refused_;
};

}  // namespace ledgerq::transport
