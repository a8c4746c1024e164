#include "publisher.hpp"

#include <spdlog/spdlog.h>

#include <thread>

#include "codec/codec.hpp"
#include "eintr.hpp"

namespace ledgerq::transport {

Publisher::Publisher(zmq::context_t& ctx, domain::Feed feed, const std::string& endpoint, int hwm, const Gate* gate)
    : ctx_(ctx), feed_(feed), hwm_(hwm), gate_(gate) {
  open(endpoint, std::chrono::milliseconds(0));
}

void Publisher::open(const std::string& endpoint, std::chrono::milliseconds retry_for) {
  sock_ = zmq::socket_t(ctx_, zmq::socket_type::xpub);
  sock_.set(zmq::sockopt::linger, 500);
  if (gate_) gate_->secure(sock_);
  sock_.set(zmq::sockopt::sndhwm, hwm_);
  // What arrives here is subscriptions: a byte and a topic of at most 129.
  // A bigger message drops its peer before libzmq buffers it.
  sock_.set(zmq::sockopt::maxmsgsize, kMaxSubscriptionBytes);
  sock_.set(zmq::sockopt::xpub_verboser, 1);
  sock_.set(zmq::sockopt::xpub_manual, 1);
  const auto until = std::chrono::steady_clock::now() + retry_for;
  for (;;) {
    try {
      sock_.bind(endpoint);
      return;
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;  // a signal meanwhile (eintr.hpp)
      if (e.num() != EADDRINUSE || std::chrono::steady_clock::now() >= until) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

void Publisher::drain() {
  zmq::message_t m;
  while (again_on_eintr([&] { return sock_.recv(m, zmq::recv_flags::dontwait); })) {
    if (m.size() == 0 || m.data<std::uint8_t>()[0] > 1) continue;  // not a (un)subscription
    const bool subscribe = m.data<std::uint8_t>()[0] == 1;
    const std::string_view topic = m.to_string_view().substr(1);
    if (gate_) {
      const bool from_libzmq = zmq_msg_gets(m.handle(), "User-Id") == nullptr;
      const auto who = from_libzmq ? nullptr : gate_->principal_of(m);
      if (!from_libzmq && !(who && domain::may_subscribe(*who, feed_, topic))) {
        if (subscribe) SPDLOG_DEBUG("subscription refused: {}", who ? who->name : "revoked key");
        continue;
      }
    }
    // ZMQ_(UN)SUBSCRIBE right after the recv: it applies to the pipe the
    // message came from.
    if (subscribe) {
      sock_.set(zmq::sockopt::subscribe, topic);
      ++topics_[std::string(topic)];
      ++count_;
      ever_ = true;
    } else if (auto it = topics_.find(topic); it != topics_.end()) {
      sock_.set(zmq::sockopt::unsubscribe, topic);
      if (--it->second == 0) topics_.erase(it);
      --count_;
    }
  }
}

void Publisher::send(std::string_view topic, std::string_view body) {
  auto more = zmq::send_flags::sndmore | zmq::send_flags::dontwait;
  again_on_eintr([&] { return sock_.send(zmq::buffer(topic), more); });
  again_on_eintr([&] { return sock_.send(zmq::buffer(codec::kSignature), more); });
  again_on_eintr([&] { return sock_.send(zmq::buffer(body), zmq::send_flags::dontwait); });
}

void Publisher::rebind() {
  const std::string where = endpoint();
  sock_.set(zmq::sockopt::linger, 0);
  sock_.close();
  topics_.clear();
  count_ = 0;
  open(where, std::chrono::seconds(5));
}

}  // namespace ledgerq::transport
