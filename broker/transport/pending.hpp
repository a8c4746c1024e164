// One request of a turn, from its arrival on the ROUTER to its reply, and
// the helpers that build replies for it. Shared by the loop (server.cpp)
// and the parked dequeues (parking.cpp).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <zmq.hpp>

#include "codec/codec.hpp"
#include "codec/messages.hpp"
#include "domain/access.hpp"

namespace ledgerq::transport {

struct Pending {
  zmq::message_t identity;
  bool delimiter = false;         // REQ-style empty frame, echoed back
  std::optional<Command> command; // absent: `reply` was decided while decoding
  Reply reply;
  std::shared_ptr<const domain::Principal> who;  // secure mode: the key's principal
  int fd = -1;                    // the connection it came on (ZMQ_SRCFD), for disconnects
  bool park = false;              // a dequeue to keep until a job or its deadline
  Micros wake_at = 0;             // park: when a job of it becomes eligible (0: unknown)
};

// The spec's cap on a message (error-text, PROTOCOL.md §3.1); the domain's
// and the codec's are far below it, a storage exception's text need not be.
inline Reply error_reply(std::uint64_t rid, Error e) {
  if (e.message.size() > codec::Limits::max_error) e.message.resize(codec::Limits::max_error);
  return Reply{rid, e.code, std::move(e.message), reply::Empty{}};
}

inline Reply to_reply(std::uint64_t rid, Result<ReplyBody>&& r) {
  if (!r) return error_reply(rid, r.error());
  return Reply{rid, Code::ok, {}, std::move(r).value()};
}

// A peer as the log names it: its principal, else its routing id in hex.
inline std::string peer_name(const Pending& p) {
  if (p.who) return "principal " + codec::quote(p.who->name);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex = "peer ";
  for (std::uint8_t c : p.identity.to_string_view().substr(0, 16)) {
    hex += kDigits[c >> 4];
    hex += kDigits[c & 15];
  }
  return hex;
}

}  // namespace ledgerq::transport
