// One request/reply exchange with a broker's ROUTER, for the tools (the
// command-line client, the web dashboard): JSON fields keyed as on the wire
// (PROTOCOL.md §6) -> tools::command_from_json -> codec -> DEALER -> reply
// -> JSON with the wire's keys.
//
// Threads: a Connection is one DEALER socket and must be used by one thread
// at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <ledgerq/credentials.hpp>
#include <zmq.hpp>

#include "json.hpp"

namespace ledgerq::tools {

/// Where the broker is and how to speak to it.
struct BrokerAddress {
  std::string router = "tcp://127.0.0.1:5555";  ///< the broker's ROUTER endpoint
  /// CURVE keys: a broker in secure mode. nullopt: plain mode.
  std::optional<ledgerq::client::Credentials> credentials;
  /// The wait for one reply.
  std::chrono::milliseconds reply_timeout = std::chrono::seconds(10);
};

/// Why an exchange did not produce an answer. A reply with an error code is
/// not a CallError: it is an Answer.
struct CallError : std::runtime_error {
  enum class Kind {
    bad_fields,    ///< the fields do not make the command (nothing was sent)
    bad_endpoint,  ///< the router endpoint cannot be connected to (nothing was sent)
    no_answer,     ///< no reply within the reply timeout (is the broker running?)
    unreadable,    ///< a reply came that is not a ledgerq reply to this command
  };
  CallError(Kind k, const std::string& message) : std::runtime_error(message), kind(k) {}
  Kind kind;
};

/// One answer from the broker: its code and message, and its fields as JSON
/// exactly as they came on the wire (every key, including keys this build's
/// codec does not know, such as fields a newer broker adds to `stats`).
struct Answer {
  unsigned code = 0;
  std::string message;
  json fields;  ///< the reply map without rid, code and message
  json whole;   ///< the reply map as received
  std::size_t bytes = 0;  ///< the reply's body frame as received, encoded (msgpack), in bytes
};

/// Applies CURVE client keys, if any, to a socket not yet connected.
void secure(zmq::socket_t& sock, const std::optional<ledgerq::client::Credentials>& credentials);

/// A DEALER to the broker's ROUTER. One request at a time: enough for a tool.
/// A Connection whose call threw no_answer may still hold that request
/// queued for a broker that comes back; a caller that must not have it
/// applied late discards the Connection (its socket lingers 0 ms).
class Connection {
 public:
  /// Throws CallError(bad_endpoint) for an endpoint zmq cannot connect to.
  explicit Connection(BrokerAddress address);
  /// Builds a command from its wire name and JSON fields, sends it and
  /// waits for its reply. Throws CallError (see its kinds).
  Answer call(std::string_view command, const json& fields);
  const BrokerAddress& address() const { return address_; }

 private:
  BrokerAddress address_;
  zmq::context_t ctx_;
  zmq::socket_t sock_;
  std::uint64_t rid_ = 0;
};

}  // namespace ledgerq::tools
