#include "server.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <optional>
#include <vector>
#include <zmq.hpp>

#include "codec/codec.hpp"
#include "domain/machine.hpp"

namespace ledgerq::transport {
namespace {

constexpr std::size_t kMaxFrames = 8;              // more than this is malformed anyway
constexpr std::int64_t kMaxFrameBytes = 4 << 20;   // bigger: libzmq drops the peer
constexpr auto kPollTick = std::chrono::milliseconds(200);
constexpr auto kSyncEvery = std::chrono::seconds(1);  // SyncMode::none

// One request of the turn, from arrival to reply.
struct Pending {
  zmq::message_t identity;
  bool delimiter = false;         // REQ-style empty frame, echoed back
  std::optional<Command> command; // absent: `reply` was decided while decoding
  Reply reply;
};

Reply error_reply(std::uint64_t rid, Error e) {
  return Reply{rid, e.code, std::move(e.message), reply::Empty{}};
}

Reply to_reply(std::uint64_t rid, Result<ReplyBody>&& r) {
  if (!r) return error_reply(rid, r.error());
  return Reply{rid, Code::ok, {}, std::move(r).value()};
}

}  // namespace

Micros system_now() {
  using namespace std::chrono;
  return static_cast<Micros>(duration_cast<microseconds>(system_clock::now().time_since_epoch()).count());
}

struct Server::Impl {
  storage::Env& env;
  ServerOptions opts;
  Clock clock;
  ServerStats& stats;
  zmq::context_t ctx{1};
  zmq::socket_t router{ctx, zmq::socket_type::router};
  zmq::socket_t status_pub{ctx, zmq::socket_type::xpub};
  zmq::socket_t requests_pub{ctx, zmq::socket_type::xpub};
  std::chrono::steady_clock::time_point last_sync = std::chrono::steady_clock::now();

  Impl(storage::Env& e, ServerOptions o, Clock c, ServerStats& s)
      : env(e), opts(std::move(o)), clock(std::move(c)), stats(s) {
    for (auto* sock : {&router, &status_pub, &requests_pub}) sock->set(zmq::sockopt::linger, 500);
    router.set(zmq::sockopt::maxmsgsize, kMaxFrameBytes);
    router.set(zmq::sockopt::sndhwm, 100000);
    status_pub.set(zmq::sockopt::sndhwm, opts.pub_hwm);
    requests_pub.set(zmq::sockopt::sndhwm, opts.pub_hwm);
    router.bind(opts.router);
    status_pub.bind(opts.status_pub);
    requests_pub.bind(opts.requests_pub);
  }

  // Reads one multipart message without blocking; keeps at most kMaxFrames
  // parts and discards the rest. Returns the parts kept, or nothing.
  std::optional<std::vector<zmq::message_t>> receive(std::size_t& total_parts) {
    std::vector<zmq::message_t> parts;
    total_parts = 0;
    for (;;) {
      zmq::message_t m;
      // Only the first part may be absent; the rest of a message arrives with it.
      auto got = router.recv(m, total_parts == 0 ? zmq::recv_flags::dontwait : zmq::recv_flags::none);
      if (!got) return std::nullopt;
      ++total_parts;
      const bool more = m.more();
      if (parts.size() < kMaxFrames) parts.push_back(std::move(m));
      if (!more) return parts;
    }
  }

  Pending decode(std::vector<zmq::message_t>&& frames, std::size_t total) {
    Pending p;
    p.identity = std::move(frames[0]);
    std::size_t first = 1;
    if (total == 4 && frames[1].size() == 0) {
      p.delimiter = true;
      first = 2;
    }
    const std::size_t n = total - first;
    if (n != 2) {
      p.reply = error_reply(0, {Code::bad_request, "expected 2 frames [signature][body] after the routing id, got " +
                                                       std::to_string(n)});
      return p;
    }
    auto sig = codec::check_signature(frames[first].to_string_view());
    if (!sig) {
      p.reply = error_reply(0, sig.error());
      return p;
    }
    auto decoded = codec::decode_request(frames[first + 1].to_string_view());
    if (!decoded.command) {
      p.reply = error_reply(decoded.rid, decoded.command.error());
      return p;
    }
    p.reply.rid = decoded.rid;
    p.command = std::move(decoded.command).value();
    return p;
  }

  // Applies the turn's commands in one write transaction. On a storage
  // failure the transaction is aborted and each command is retried in a
  // transaction of its own, so one bad command cannot fail its neighbours.
  std::vector<domain::Notice> apply(std::vector<Pending>& batch) {
    const Micros now = clock();
    std::vector<domain::Notice> notices;
    try {
      auto txn = env.begin_write();
      domain::View view(txn);
      for (auto& p : batch) {
        if (!p.command) continue;
        auto out = domain::execute(view, *p.command, now);
        p.reply = to_reply(p.reply.rid, std::move(out.reply));
        for (auto& n : out.notices) notices.push_back(std::move(n));
      }
      view.flush();
      txn.commit();
      return notices;
    } catch (const storage::LmdbError& e) {
      if (e.fatal()) die(e);
      spdlog::error("batch of {} aborted: {}; retrying one command per transaction", batch.size(), e.what());
    } catch (const std::exception& e) {
      spdlog::error("batch of {} aborted: {}; retrying one command per transaction", batch.size(), e.what());
    }
    ++stats.failed_batches;
    notices.clear();
    for (auto& p : batch) {
      if (!p.command) continue;
      try {
        auto txn = env.begin_write();
        domain::View view(txn);
        auto out = domain::execute(view, *p.command, now);
        view.flush();
        txn.commit();
        p.reply = to_reply(p.reply.rid, std::move(out.reply));
        for (auto& n : out.notices) notices.push_back(std::move(n));
      } catch (const storage::LmdbError& e) {
        if (e.fatal()) die(e);
        spdlog::error("{} failed: {}", command_name(*p.command), e.what());
        p.reply = error_reply(p.reply.rid, {Code::internal, std::string("storage failure: ") + e.what()});
      } catch (const std::exception& e) {
        spdlog::error("{} failed: {}", command_name(*p.command), e.what());
        p.reply = error_reply(p.reply.rid, {Code::internal, std::string("broker failure: ") + e.what()});
      }
    }
    return notices;
  }

  [[noreturn]] static void die(const storage::LmdbError& e) {
    spdlog::critical("storage is corrupt, stopping at once: {}", e.what());
    spdlog::shutdown();
    std::abort();
  }

  void send_reply(Pending& p) {
    const std::string body = codec::encode_reply(p.reply);
    // Never block on a slow or vanished peer: ROUTER drops what it cannot route.
    auto more = zmq::send_flags::sndmore | zmq::send_flags::dontwait;
    router.send(p.identity, more);
    if (p.delimiter) router.send(zmq::message_t(), more);
    router.send(zmq::buffer(codec::kSignature), more);
    router.send(zmq::buffer(body), zmq::send_flags::dontwait);
  }

  void publish(const domain::Notice& n) {
    auto more = zmq::send_flags::sndmore | zmq::send_flags::dontwait;
    if (const auto* s = std::get_if<StatusNotice>(&n)) {
      const std::string topic = codec::status_topic(s->data.client), body = codec::encode(*s);
      status_pub.send(zmq::buffer(topic), more);
      status_pub.send(zmq::buffer(codec::kSignature), more);
      status_pub.send(zmq::buffer(body), zmq::send_flags::dontwait);
    } else {
      const auto& r = std::get<RequestEntry>(n);
      const std::string topic = codec::request_topic(r.datasource), body = codec::encode(r);
      requests_pub.send(zmq::buffer(topic), more);
      requests_pub.send(zmq::buffer(codec::kSignature), more);
      requests_pub.send(zmq::buffer(body), zmq::send_flags::dontwait);
    }
  }

  void turn() {
    std::vector<Pending> batch;
    batch.reserve(64);
    std::size_t total = 0;
    while (batch.size() < opts.batch_max) {
      auto frames = receive(total);
      if (!frames) break;
      batch.push_back(decode(std::move(*frames), total));
      if (!batch.back().command) ++stats.bad_requests;
    }
    if (batch.empty()) return;
    ++stats.batches;
    stats.requests += batch.size();
    auto notices = apply(batch);
    for (auto& p : batch) {
      try {
        send_reply(p);
      } catch (const zmq::error_t& e) {
        spdlog::warn("reply to a peer dropped: {}", e.what());
      }
    }
    for (const auto& n : notices) publish(n);
    SPDLOG_DEBUG("turn: {} requests, {} notices", batch.size(), notices.size());
  }

  // Subscriptions arrive as messages on an XPUB; they must be read so they
  // do not pile up. (Admission control by principal comes with CURVE.)
  static void drain_subscriptions(zmq::socket_t& xpub) {
    zmq::message_t m;
    while (xpub.recv(m, zmq::recv_flags::dontwait)) {
      if (m.size() > 0)
        SPDLOG_DEBUG("{}subscribe to a topic of {} bytes", m.data<char>()[0] == 1 ? "" : "un", m.size() - 1);
    }
  }

  void maybe_sync() {
    if (env.options().sync != storage::SyncMode::none) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_sync < kSyncEvery) return;
    last_sync = now;
    env.sync();
  }

  std::string endpoint(const zmq::socket_t& s) const { return s.get(zmq::sockopt::last_endpoint); }
};

Server::Server(storage::Env& env, ServerOptions opts, Clock clock)
    : impl_(std::make_unique<Impl>(env, std::move(opts), std::move(clock), stats_)) {}

Server::~Server() = default;

std::string Server::router_endpoint() const { return impl_->endpoint(impl_->router); }
std::string Server::status_endpoint() const { return impl_->endpoint(impl_->status_pub); }
std::string Server::requests_endpoint() const { return impl_->endpoint(impl_->requests_pub); }

void Server::run(const std::atomic<bool>& stop) {
  zmq::pollitem_t items[] = {
      {impl_->router.handle(), 0, ZMQ_POLLIN, 0},
      {impl_->status_pub.handle(), 0, ZMQ_POLLIN, 0},
      {impl_->requests_pub.handle(), 0, ZMQ_POLLIN, 0},
  };
  while (!stop.load()) {
    try {
      zmq::poll(items, 3, kPollTick);
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;  // a signal: look at `stop` again
      throw;
    }
    if (items[1].revents & ZMQ_POLLIN) Impl::drain_subscriptions(impl_->status_pub);
    if (items[2].revents & ZMQ_POLLIN) Impl::drain_subscriptions(impl_->requests_pub);
    if (items[0].revents & ZMQ_POLLIN) impl_->turn();
    impl_->maybe_sync();
  }
  if (impl_->env.options().sync == storage::SyncMode::none) impl_->env.sync();
}

}  // namespace ledgerq::transport
