// One of the broker's two publish sockets (PROTOCOL.md §11): an XPUB in
// manual mode that admits each subscription itself (by the subscriber's
// principal in secure mode, §14.5), counts what it admitted for stats, and
// sends publications without ever blocking.
//
// Threads: the broker's loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <zmq.hpp>

#include "domain/access.hpp"
#include "security.hpp"

namespace ledgerq::transport {

class Publisher {
 public:
  /// The largest message a subscriber may send (ZMQ_MAXMSGSIZE): a
  /// subscription is one byte and a topic, at most 128 + 1 bytes.
  static constexpr std::int64_t kMaxSubscriptionBytes = 1024;

  /// Binds `endpoint` (throws zmq::error_t). `gate` (may be null: plain
  /// mode, every subscription admitted) must outlive the publisher.
  Publisher(zmq::context_t& ctx, domain::Feed feed, const std::string& endpoint, int hwm, const Gate* gate);

  /// Reads the subscriptions waiting and admits or ignores each. VERBOSER:
  /// every subscribe and unsubscribe arrives, a departing subscriber's too
  /// (those carry no User-Id: libzmq makes them for what it admitted).
  void drain();

  /// Sends one publication, [topic][signature][body]; a subscriber at its
  /// high-water mark misses it (it recovers by seq).
  void send(std::string_view topic, std::string_view body);

  /// Whether anyone was ever admitted: until then a publication would be
  /// dropped, and the broker does not build it. (The loop drains both
  /// sockets before a turn's publications.)
  bool ever_subscribed() const { return ever_; }

  /// Subscriptions admitted and not yet cancelled.
  std::uint64_t subscriptions() const { return count_; }

  /// Closes the socket and binds a new one where it was (a reload took
  /// rights away: every subscriber reconnects through ZAP and subscribes
  /// afresh; libzmq cannot drop one subscriber of an XPUB). Retries the
  /// port for a few seconds while libzmq releases it.
  void rebind();

  zmq::socket_t& socket() { return sock_; }
  std::string endpoint() const { return sock_.get(zmq::sockopt::last_endpoint); }

 private:
  void open(const std::string& endpoint, std::chrono::milliseconds retry_for);

  zmq::context_t& ctx_;
  domain::Feed feed_;
  int hwm_;
  const Gate* gate_;
  zmq::socket_t sock_;
  std::map<std::string, std::uint64_t, std::less<>> topics_;  ///< admitted, per topic
  std::uint64_t count_ = 0;
  // Not count_, which a peer's unsubscribe for a topic it never held could
  // bring to zero: whether publications are worth building at all.
  bool ever_ = false;
};

}  // namespace ledgerq::transport
