// A protocol peer made of a bare DEALER and the shared codec, so broker
// tests check the wire behaviour independently of libclient.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "codec/codec.hpp"

namespace ledgerq::testing {

using namespace std::chrono_literals;

/// A msgpack str holding `s` (fixstr, or str16 past 31 bytes): a body.
inline Any text(std::string_view s) {
  std::string m;
  if (s.size() < 32) {
    m.push_back(static_cast<char>(0xa0 | s.size()));
  } else {
    m.push_back('\xda');
    m.push_back(static_cast<char>(s.size() >> 8));
    m.push_back(static_cast<char>(s.size() & 0xff));
  }
  m.append(s);
  return Any{m};
}

/// A peer's CURVE keys for a broker in secure mode (Z85 text).
struct CurveKeys {
  std::string server_public, public_key, secret_key;
};

/// Makes `s` a CURVE client with `keys`, if any; before connect.
inline void apply_keys(zmq::socket_t& s, const std::optional<CurveKeys>& keys) {
  if (!keys) return;
  s.set(zmq::sockopt::curve_serverkey, keys->server_public);
  s.set(zmq::sockopt::curve_publickey, keys->public_key);
  s.set(zmq::sockopt::curve_secretkey, keys->secret_key);
}

class RawPeer {
 public:
  RawPeer(zmq::context_t& ctx, const std::string& router, const std::optional<CurveKeys>& keys = std::nullopt)
      : sock_(ctx, zmq::socket_type::dealer) {
    sock_.set(zmq::sockopt::linger, 0);
    apply_keys(sock_, keys);
    sock_.connect(router);
  }

  /// Sends raw frames (the signature is not added).
  void send_frames(const std::vector<std::string>& frames) {
    for (std::size_t i = 0; i < frames.size(); ++i)
      sock_.send(zmq::buffer(frames[i]), i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }

  /// Receives one message's frames, or nothing after `timeout`.
  std::optional<std::vector<std::string>> receive(std::chrono::milliseconds timeout = 10s) {
    zmq::pollitem_t item{sock_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, timeout) == 0) return std::nullopt;
    std::vector<zmq::message_t> parts;
    (void)zmq::recv_multipart(sock_, std::back_inserter(parts));
    std::vector<std::string> out;
    for (auto& p : parts) out.push_back(p.to_string());
    return out;
  }

  /// Sends a raw body behind the signature and decodes the reply as an
  /// answer to `command`.
  Reply call_raw(const std::string& body, std::string_view command = "ping") {
    send_frames({std::string(codec::kSignature), body});
    return expect_reply(command);
  }

  Reply expect_reply(std::string_view command) {
    auto frames = receive();
    if (!frames) throw std::runtime_error("no reply within 10 s");
    if (frames->size() != 2 || (*frames)[0] != codec::kSignature)
      throw std::runtime_error("reply is not [signature][body]");
    auto r = codec::decode_reply((*frames)[1], command);
    if (!r) throw std::runtime_error("undecodable reply: " + r.error().message);
    return std::move(r).value();
  }

  Reply call(const Command& c) {
    const std::uint64_t rid = ++rid_;
    auto r = call_raw(codec::encode_request(Request{rid, c}), command_name(c));
    EXPECT_EQ(r.rid, rid);
    return r;
  }

  /// The reply body of a command that must succeed.
  template <class Body> Body ok(const Command& c) {
    auto r = call(c);
    if (r.code != Code::ok) throw std::runtime_error(std::string(command_name(c)) + ": " + r.message);
    return std::get<Body>(r.body);
  }

  zmq::socket_t& socket() { return sock_; }

 private:
  zmq::socket_t sock_;
  std::uint64_t rid_ = 0;
};

/// A SUB on one topic of one of the broker's PUB sockets.
class Subscriber {
 public:
  Subscriber(zmq::context_t& ctx, const std::string& endpoint, const std::string& topic,
             const std::optional<CurveKeys>& keys = std::nullopt)
      : sock_(ctx, zmq::socket_type::sub) {
    sock_.set(zmq::sockopt::linger, 0);
    apply_keys(sock_, keys);
    sock_.set(zmq::sockopt::subscribe, topic);
    sock_.connect(endpoint);
  }

  /// Adds a subscription (sent after the ones before it, on the same pipe).
  void subscribe(const std::string& topic) { sock_.set(zmq::sockopt::subscribe, topic); }

  /// The next body on the subscription, or nothing after `timeout`.
  std::optional<std::string> next(std::chrono::milliseconds timeout = 5s) {
    zmq::pollitem_t item{sock_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, timeout) == 0) return std::nullopt;
    std::vector<zmq::message_t> parts;
    (void)zmq::recv_multipart(sock_, std::back_inserter(parts));
    if (parts.size() != 3 || parts[1].to_string_view() != codec::kSignature)
      throw std::runtime_error("notification is not [topic][signature][body]");
    last_topic_ = parts[0].to_string();
    return parts[2].to_string();
  }

  std::optional<StatusNotice> next_status(std::chrono::milliseconds timeout = 5s) {
    auto b = next(timeout);
    if (!b) return std::nullopt;
    auto n = codec::decode_status_notice(*b);
    if (!n) throw std::runtime_error("bad status notice: " + n.error().message);
    return std::move(n).value();
  }

  std::optional<RequestEntry> next_request(std::chrono::milliseconds timeout = 5s) {
    auto b = next(timeout);
    if (!b) return std::nullopt;
    auto n = codec::decode_request_entry(*b);
    if (!n) throw std::runtime_error("bad request entry: " + n.error().message);
    return std::move(n).value();
  }

  const std::string& last_topic() const { return last_topic_; }

 private:
  zmq::socket_t sock_;
  std::string last_topic_;
};

/// Subscriptions travel to the XPUB asynchronously: publish until the
/// subscriber sees something, so a test starts only once it is connected.
/// `poke` must cause one notification on the subscriber's topic.
template <class Poke> void await_subscription(Subscriber& sub, Poke poke) {
  for (int i = 0; i < 100; ++i) {
    poke();
    if (sub.next(100ms)) {
      while (sub.next(50ms)) {}  // drain the pokes still in flight
      return;
    }
  }
  throw std::runtime_error("subscription never took effect");
}

}  // namespace ledgerq::testing
