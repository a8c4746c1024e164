#include "server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <map>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <iterator>
#include <optional>
#include <vector>
#include <zmq.hpp>

#include "codec/codec.hpp"
#include "domain/machine.hpp"
#include "domain/must.hpp"
#include "domain/retention.hpp"
#include "eintr.hpp"
#include "log_limit.hpp"
#include "map_watch.hpp"
#include "parking.hpp"
#include "pending.hpp"
#include "publisher.hpp"
#include "store.hpp"
#include "syncer.hpp"

namespace ledgerq::transport {
namespace {

constexpr std::size_t kMaxFrames = 8;              // more than this is malformed anyway
constexpr std::int64_t kMaxFrameBytes = 4 << 20;   // bigger: libzmq drops the peer
constexpr auto kPollTick = std::chrono::milliseconds(200);
constexpr auto kSyncEvery = std::chrono::seconds(1);  // SyncMode::none: the journal's flush
// The loop idle this long with a transaction open: checkpoint it, so that
// tools reading LMDB see what was acknowledged soon after.
constexpr auto kIdleCheckpoint = std::chrono::milliseconds(5);
// A notice to publish after the commit, with its bytes when the View kept
// them (a status notice is encoded once, to store it): empty, encode it.
struct Outgoing {
  domain::Notice notice;
  std::string body;
};

// A turn's answers: replies and notices, sent together once its commit is
// durable.
struct Held {
  std::uint64_t generation = 0;  // the turn's commit, numbered for the Syncer
  std::vector<Pending> woken, batch;
  std::vector<Outgoing> notices;
};

Micros to_micros(std::chrono::milliseconds d) { return static_cast<Micros>(d.count()) * 1000; }

// Folds a sample into a moving average that weighs the last ~8.
void fold_into(double& average, double sample) { average = (average * 7 + sample) / 8; }

// Where a turn's time goes, for stats: microseconds since the last lap.
class Stopwatch {
 public:
  std::uint64_t lap() {
    const auto now = std::chrono::steady_clock::now();
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - last_).count();
    last_ = now;
    return static_cast<std::uint64_t>(us);
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

// Submits and completions of one datasource over the last minute, in
// one-second buckets: the rates `stats` reports.
class LastMinute {
 public:
  void add(Micros now, bool submitted, bool completed) {
    auto& b = bucket(now);
    b.submitted += submitted;
    b.completed += completed;
  }
  std::pair<std::uint64_t, std::uint64_t> totals(Micros now) const {
    std::pair<std::uint64_t, std::uint64_t> t{0, 0};
    const std::uint64_t sec = now / 1'000'000;
    for (const auto& b : buckets_)
      if (b.second + 60 > sec) {
        t.first += b.submitted;
        t.second += b.completed;
      }
    return t;
  }

 private:
  struct Bucket {
    std::uint64_t second = 0, submitted = 0, completed = 0;
  };
  Bucket& bucket(Micros now) {
    const std::uint64_t sec = now / 1'000'000;
    Bucket& b = buckets_[sec % buckets_.size()];
    if (b.second != sec) b = Bucket{sec, 0, 0};
    return b;
  }
  std::array<Bucket, 60> buckets_{};
};

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
  Store store;  // LMDB behind the journal; recovers at start
  zmq::context_t zctx{1};
  zmq::socket_t router{zctx, zmq::socket_type::router};
  std::chrono::steady_clock::time_point last_sync = std::chrono::steady_clock::now();
  domain::Runtime runtime;   // rate limits: memory only
  Micros next_tick = 0;      // when timers (leases, GC, trim) are next due
  bool deleting = false;     // a ds_delete in this turn: run the timers (its purge slices)
  Micros started = clock();  // for stats: uptime
  zmq::socket_t monitor{zctx, zmq::socket_type::pair};  // the ROUTER's connection events
  std::uint64_t peers = 0;                     // connections to the ROUTER now
  MapWatch map_watch{env};   // grows the map, warns before the store is full
  std::optional<Gate> gate;  // secure mode: CURVE, ZAP and principals
  LogLimit warnings;         // what peers make the broker log, a few lines each
  Parking parking{warnings}; // dequeues waiting for a job
  std::optional<Publisher> status_pub, requests_pub;  // built once the gate is
  std::map<std::string, LastMinute, std::less<>> last_minute;  // per datasource
  // SyncMode::full: the journal's flush runs beside the next turn, and
  // turns wait in `held` until theirs is done (syncer.hpp).
  std::optional<Syncer> syncer;
  std::uint64_t generation = 0;  // commits handed to the syncer or synced here
  std::uint64_t synced_here = 0; // the last generation this thread synced itself
  std::deque<Held> held;
  // Moving averages, microseconds: a turn's apply and an inline meta sync.
  double apply_us_avg = 0, sync_us_avg = 0;
  std::uint64_t syncer_seen = 0;  // the syncer's generation last folded into sync_us_avg

  Impl(storage::Env& e, ServerOptions o, Clock c, ServerStats& s)
      : env(e), opts(std::move(o)), clock(std::move(c)), stats(s), store(e, opts.journal_bytes) {
    if (store.recovered_records())
      spdlog::info("applied {} journal records ({} log entries) that LMDB lacked", store.recovered_records(),
                   store.recovered_entries());
    if (!opts.security && !opts.insecure)
      for (const auto& ep : {opts.router, opts.status_pub, opts.requests_pub})
        if (!is_local_endpoint(ep))
          throw std::invalid_argument("refusing to bind " + ep +
                                      " without CURVE: other machines could act as any client. Give --curve-secret "
                                      "and --principals (README, Secure setup), or --insecure on a trusted network");
    if (opts.security) gate.emplace(zctx, *opts.security);
    router.set(zmq::sockopt::linger, 500);
    if (gate) gate->secure(router);
    router.set(zmq::sockopt::maxmsgsize, kMaxFrameBytes);
    router.set(zmq::sockopt::sndhwm, 100000);
    router.bind(opts.router);
    const Gate* g = gate ? &*gate : nullptr;
    status_pub.emplace(zctx, domain::Feed::status, opts.status_pub, opts.pub_hwm, g);
    requests_pub.emplace(zctx, domain::Feed::requests, opts.requests_pub, opts.pub_hwm, g);
    const std::string monitor_ep = "inproc://ledgerq-router-monitor";
    if (zmq_socket_monitor(router.handle(), monitor_ep.c_str(), ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) != 0)
      throw zmq::error_t();
    monitor.set(zmq::sockopt::linger, 0);
    monitor.connect(monitor_ep);
    if (env.options().sync == storage::SyncMode::full) syncer.emplace([this] { store.flush(); });
  }

  ~Impl() { zmq_socket_monitor(router.handle(), nullptr, 0); }  // stop the monitor before the sockets close

  // Reads one multipart message without blocking; keeps at most kMaxFrames
  // parts and discards the rest. Returns the parts kept, or nothing.
  std::optional<std::vector<zmq::message_t>> receive(std::size_t& total_parts) {
    std::vector<zmq::message_t> parts;
    total_parts = 0;
    for (;;) {
      zmq::message_t m;
      // Only the first part may be absent; the rest of a message arrives with it.
      const auto flags = total_parts == 0 ? zmq::recv_flags::dontwait : zmq::recv_flags::none;
      auto got = again_on_eintr([&] { return router.recv(m, flags); });
      if (!got) return std::nullopt;
      ++total_parts;
      const bool more = m.more();
      if (parts.size() < kMaxFrames) parts.push_back(std::move(m));
      if (!more) return parts;
    }
  }

  Pending decode(std::vector<zmq::message_t>&& frames, std::size_t total) {
    Pending p;
    p.fd = zmq_msg_get(frames[std::min<std::size_t>(1, frames.size() - 1)].handle(), ZMQ_SRCFD);
    p.identity = std::move(frames[0]);
    std::size_t first = 1;
    if (total == 4 && frames[1].size() == 0) {
      p.delimiter = true;
      first = 2;
    }
    const std::size_t n = total - first;
    // Refused for its framing: the reply starts with an empty frame if the
    // message did, so that a REQ peer (which drops a reply without one)
    // gets its 400 instead of waiting for ever.
    const bool echo_empty = total >= 2 && frames[1].size() == 0;
    if (n != 2) {
      p.delimiter = echo_empty;
      p.reply = error_reply(0, {Code::bad_request, "expected 2 frames [signature][body] after the routing id, got " +
                                                       std::to_string(n)});
      return p;
    }
    auto sig = codec::check_signature(frames[first].to_string_view());
    if (!sig) {
      p.delimiter = echo_empty;
      p.reply = error_reply(0, sig.error());
      return p;
    }
    auto decoded = codec::decode_request(frames[first + 1].to_string_view());
    if (gate) {  // a key removed by a reload: its open connections are refused from now on
      p.who = gate->principal_of(frames[first + 1]);
      if (!p.who) {
        p.reply = error_reply(decoded.rid, {Code::forbidden, "this connection's key is no longer admitted "
                                                             "(it left the principals file)"});
        return p;
      }
    }
    if (!decoded.command) {
      p.reply = error_reply(decoded.rid, decoded.command.error());
      return p;
    }
    p.reply.rid = decoded.rid;
    if (p.who)
      if (auto refused = domain::authorize(*p.who, decoded.command.value())) {
        p.reply = error_reply(decoded.rid, std::move(*refused));
        return p;
      }
    p.command = std::move(decoded.command).value();
    return p;
  }

  // Applies the turn's commands, one slice of timer work and the parked
  // dequeues that may now find a job, as one turn of the store. On a
  // storage failure the turn is undone and each command is retried
  // in a transaction of its own, so one bad command cannot fail its
  // neighbours (timers and parked dequeues wait for the next turn).
  std::vector<Outgoing> apply(std::vector<Pending>& batch, std::vector<Pending>& woken, bool grown = false) {
    const Micros now = clock();
    if (now >= next_tick) map_watch.check();
    map_watch.before_turn([this] { checkpoint(); });  // a failed checkpoint ends the broker
    runtime.begin();
    const Micros tick_was = next_tick;
    const domain::ProcessFigures figures = figures_if_asked(batch, now);
    const domain::Context ctx{now, &runtime, &figures};
    std::vector<domain::Notice> notices;
    auto keep = [&](std::vector<domain::Notice>& ns) {
      if (notices.empty()) {
        notices.swap(ns);  // the turn's first notices: no copy
        return;
      }
      notices.insert(notices.end(), std::make_move_iterator(ns.begin()), std::make_move_iterator(ns.end()));
    };
    std::vector<Outgoing> outgoing;
    try {
      Stopwatch watch;
      auto txn = store.begin_turn();
      domain::View view(txn.kv());
      std::vector<domain::Entry> logged;  // the turn's journal record
      view.capture_log(&logged);
      for (auto& p : batch) {
        release();  // earlier turns whose sync finished meanwhile
        if (!p.command) continue;
        auto out = domain::execute(view, *p.command, as(ctx, p));
        for (const auto& w : out.warnings) warnings.warn(peer_name(p), w);
        keep(out.notices);
        p.park = out.park;
        p.wake_at = out.wake_at;
        // A datasource deleted: its removal goes on in this turn's timers.
        deleting |= std::holds_alternative<cmd::DsDelete>(*p.command) && out.reply.ok();
        p.reply = to_reply(p.reply.rid, std::move(out.reply));
      }
      if (now >= next_tick || deleting) {
        deleting = false;
        auto t = domain::tick(view, now, opts.retention, opts.tick_budget);
        keep(t.notices);
        stats.timers.expired += t.stats.expired;
        stats.timers.collected += t.stats.collected;
        stats.timers.trimmed += t.stats.trimmed;
        next_tick = t.more ? now : now + to_micros(opts.tick_every);
      }
      parking.run(view, ctx, batch, notices);
      if (auto lease = view.next_lease_deadline()) next_tick = std::min(next_tick, *lease);
      outgoing = with_bytes(view, notices);
      view.flush();
      const auto applied_us = watch.lap();
      stats.apply_us += applied_us;
      fold_into(apply_us_avg, static_cast<double>(applied_us));
      txn.commit();  // kept in the open transaction: LMDB writes nothing yet
      store.journal(logged);
      stats.commit_us += watch.lap();
      if (!batch.empty() || !notices.empty()) ++stats.transactions;
    } catch (const domain::CorruptStore& e) {
      die_of_corruption(e);
    } catch (const storage::LmdbError& e) {
      if (e.code() == MDB_CORRUPTED) die_of_corruption(e);
      if (e.fatal()) die_of_storage(e);
      // The map was too small for this turn (the turn is undone): grow
      // it and apply the same turn again, once.
      runtime.undo();  // nothing of the aborted transaction stays, in memory either
      if (e.code() == MDB_MAP_FULL && !grown && (checkpoint(), map_watch.after_map_full())) {
        next_tick = tick_was;
        return apply(batch, woken, true);
      }
      spdlog::error("batch of {} aborted: {}; retrying one command per transaction", batch.size(), e.what());
      next_tick = now + to_micros(opts.tick_every);  // a failing timer must not spin the loop
      return apply_one_by_one(batch, ctx);
    } catch (const std::exception& e) {
      runtime.undo();
      spdlog::error("batch of {} aborted: {}; retrying one command per transaction", batch.size(), e.what());
      next_tick = now + to_micros(opts.tick_every);
      return apply_one_by_one(batch, ctx);
    }
    // Committed: now the parked dequeues that ended may be answered, and the
    // new ones that found nothing start waiting.
    stats.parked += parking.commit(batch, woken, now);
    return outgoing;
  }

  // The turn's context for one request: its principal's.
  static domain::Context as(const domain::Context& ctx, const Pending& p) {
    domain::Context c = ctx;
    c.who = p.who.get();
    return c;
  }

  static std::vector<Outgoing> with_bytes(domain::View& view, std::vector<domain::Notice>& notices) {
    std::vector<Outgoing> out;
    out.reserve(notices.size());
    for (auto& n : notices) {
      std::string body;
      if (const auto* s = std::get_if<StatusNotice>(&n)) body = view.take_notice_bytes(*s);
      out.push_back(Outgoing{std::move(n), std::move(body)});
    }
    return out;
  }

  std::vector<Outgoing> apply_one_by_one(std::vector<Pending>& batch, const domain::Context& ctx) {
    ++stats.failed_batches;
    std::vector<Outgoing> notices;
    for (auto& p : batch) {
      if (!p.command) continue;
      p.park = false;  // no waiting after a failure: answer at once
      runtime.begin();
      try {
        Stopwatch watch;
        auto txn = store.begin_turn();
        domain::View view(txn.kv());
        std::vector<domain::Entry> logged;
        view.capture_log(&logged);
        auto out = domain::execute(view, *p.command, as(ctx, p));
        view.flush();
        stats.apply_us += watch.lap();
        txn.commit();
        store.journal(logged);
        stats.commit_us += watch.lap();
        ++stats.transactions;
        p.reply = to_reply(p.reply.rid, std::move(out.reply));
        for (auto& n : out.notices) notices.push_back(Outgoing{std::move(n), {}});
      } catch (const domain::CorruptStore& e) {
        die_of_corruption(e);
      } catch (const storage::LmdbError& e) {
        if (e.code() == MDB_CORRUPTED) die_of_corruption(e);
        if (e.fatal()) die_of_storage(e);
        runtime.undo();
        spdlog::error("{} failed: {}", command_name(*p.command), e.what());
        p.reply = error_reply(p.reply.rid, {Code::internal, std::string("storage failure: ") + e.what()});
      } catch (const std::exception& e) {
        runtime.undo();
        spdlog::error("{} failed: {}", command_name(*p.command), e.what());
        p.reply = error_reply(p.reply.rid, {Code::internal, std::string("broker failure: ") + e.what()});
      }
    }
    return notices;
  }

  // The process's figures for a stats command (gathered only when one asks).
  domain::ProcessFigures figures_if_asked(const std::vector<Pending>& batch, Micros now) {
    domain::ProcessFigures f;
    const bool asked = std::any_of(batch.begin(), batch.end(), [](const Pending& p) {
      return p.command && std::holds_alternative<cmd::Stats>(*p.command);
    });
    if (!asked) return f;
    const auto map = env.map_usage();
    auto& p = f.process;
    p.started = started;
    p.requests = stats.requests;
    p.transactions = stats.transactions;
    p.apply_us = stats.apply_us;
    p.commit_us = stats.commit_us;
    p.bad_requests = stats.bad_requests;
    p.parked = stats.parked;
    p.expired = stats.timers.expired;
    p.collected = stats.timers.collected;
    p.trimmed = stats.timers.trimmed;
    p.map_size = map.size;
    p.map_used = map.used;
    p.map_limit = map.limit;
    p.peers = peers;
    p.status_subscriptions = status_pub->subscriptions();
    p.request_subscriptions = requests_pub->subscriptions();
    for (const auto& [ds, window] : last_minute) f.last_minute.emplace(ds, window.totals(now));
    return f;
  }

  // Counts what goes out for the rates in stats.
  void count(const domain::Notice& n, Micros now) {
    if (const auto* r = std::get_if<RequestEntry>(&n)) {
      if (r->type == "request") last_minute[r->datasource].add(now, true, false);
    } else if (const auto* s = std::get_if<StatusNotice>(&n); s && s->data.status == JobStatus::complete) {
      last_minute[s->datasource].add(now, false, true);
    }
  }

  // How long the loop may sleep: until the next timer or parked deadline.
  std::chrono::milliseconds poll_timeout() const {
    const Micros now = clock();
    const Micros next = parking.next_due(next_tick);
    if (next <= now) return std::chrono::milliseconds(0);
    const auto most = store.open() ? kIdleCheckpoint : std::chrono::milliseconds(kPollTick);
    return std::min<std::chrono::milliseconds>(most, std::chrono::milliseconds((next - now + 999) / 1000));
  }

  void send_reply(Pending& p) {
    const std::string body = codec::encode_reply(p.reply);
    // Never block on a slow or vanished peer: ROUTER drops what it cannot route.
    auto more = zmq::send_flags::sndmore | zmq::send_flags::dontwait;
    again_on_eintr([&] { return router.send(p.identity, more); });
    if (p.delimiter) again_on_eintr([&] { return router.send(zmq::message_t(), more); });
    again_on_eintr([&] { return router.send(zmq::buffer(codec::kSignature), more); });
    again_on_eintr([&] { return router.send(zmq::buffer(body), zmq::send_flags::dontwait); });
  }

  // With nobody ever subscribed, the XPUB would drop the message: don't
  // build it. (A subscription on its way is as early or late as it would
  // have been: subscribers recover what they miss by seq, §11.)
  void publish(const Outgoing& o) {
    const domain::Notice& n = o.notice;
    if (const auto* s = std::get_if<StatusNotice>(&n)) {
      if (!status_pub->ever_subscribed()) return;
      const std::string encoded = o.body.empty() ? codec::encode(*s) : std::string();
      status_pub->send(codec::status_topic(s->data.client), o.body.empty() ? encoded : o.body);
    } else {
      const auto& r = std::get<RequestEntry>(n);
      if (!requests_pub->ever_subscribed()) return;
      requests_pub->send(codec::request_topic(r.datasource), codec::encode(r));
    }
  }

  void turn() {
    std::vector<Pending> batch;
    std::size_t total = 0;
    while (batch.size() < opts.batch_max) {
      auto frames = receive(total);
      if (!frames) break;
      batch.push_back(decode(std::move(*frames), total));
      if (!batch.back().command) ++stats.bad_requests;
    }
    if (batch.empty() && poll_timeout().count() > 0) return;  // nothing arrived, nothing due
    if (!batch.empty()) {
      ++stats.batches;
      stats.requests += batch.size();
    }
    std::vector<Pending> woken;
    auto notices = apply(batch, woken);
    SPDLOG_DEBUG("turn: {} requests, {} woken, {} notices", batch.size(), woken.size(), notices.size());
    // Nothing to answer (a timer turn, a dequeue that went to wait): a
    // later turn's sync covers what this one committed.
    if (woken.empty() && batch.empty() && notices.empty()) {
      if (store.checkpoint_due()) checkpoint();
      return;
    }
    Held h{++generation, std::move(woken), std::move(batch), std::move(notices)};
    if (!syncer) {
      // meta: the journal's flush right after the replies; none: once a second.
      send(h);
      if (env.options().sync == storage::SyncMode::meta) sync_here();
      if (store.checkpoint_due()) checkpoint();
      return;
    }
    held.push_back(std::move(h));
    // Sync beside the next turn when one is waiting and long enough to hide
    // the sync: a short one would reach its own commit's sync while this
    // one still runs, and the disk does the two flushes one after the
    // other anyway. Otherwise at once, here (no thread hop for a lone
    // request, nor for a stream of small turns).
    if (syncer->durable() > syncer_seen) {  // the thread's syncs count too
      syncer_seen = syncer->durable();
      fold_into(sync_us_avg, static_cast<double>(syncer->last_sync_us()));
    }
    const bool beside = sync_us_avg * 2 < apply_us_avg && (again_on_eintr([&] { return router.get(zmq::sockopt::events); }) & ZMQ_POLLIN);
    if (beside) {
      syncer->request(generation);
    } else {
      Stopwatch watch;
      sync_here();
      fold_into(sync_us_avg, static_cast<double>(watch.lap()));
    }
    release();
    // LMDB catches up while the syncer flushes the journal.
    if (store.checkpoint_due()) checkpoint();
  }

  // Commits the open transaction to LMDB. A failure here cannot be undone
  // in place (acknowledged turns are in it): the broker ends, and the next
  // start applies them from the journal.
  void checkpoint(bool durable = false) {
    try {
      store.checkpoint(durable);
    } catch (const storage::LmdbError& e) {
      if (e.code() == MDB_CORRUPTED) die_of_corruption(e);
      die_of_storage(e);
    } catch (const domain::CorruptStore& e) {
      die_of_corruption(e);
    } catch (const std::exception& e) {
      die_of_storage(e);
    }
  }

  // The journal's flush on this thread: every turn so far is durable.
  void sync_here() {
    try {
      store.flush();
    } catch (const std::exception& e) {
      die_of_storage(e);  // nobody can say what reached the disk: see Env::sync_meta
    }
    synced_here = generation;
  }

  // Sends the held turns whose commits are durable, oldest first.
  void release() {
    if (held.empty() || !syncer) return;
    const std::uint64_t durable = std::max(synced_here, syncer->durable());
    while (!held.empty() && held.front().generation <= durable) {
      send(held.front());
      held.pop_front();
    }
  }

  // At the end: the last turns' sync, then their answers.
  void release_all() {
    if (held.empty()) return;
    sync_here();
    release();
  }

  void send(Held& h) {
    // A woken dequeue first: a worker waits for it, while the submit that
    // woke it has only its own reply to read.
    for (auto* list : {&h.woken, &h.batch}) {
      for (auto& p : *list) {
        try {
          send_reply(p);
        } catch (const zmq::error_t& e) {
          spdlog::warn("reply to a peer dropped: {}", e.what());
        }
      }
    }
    const Micros now = clock();
    // Admit the subscriptions that arrived since the poll first: in manual
    // mode a subscription counts only once the loop has read it, and one
    // that reached the socket before these notices must get them (as it
    // would from a plain XPUB, which admits in libzmq's I/O thread).
    if (!h.notices.empty()) {
      status_pub->drain();
      requests_pub->drain();
    }
    for (const auto& o : h.notices) {
      publish(o);
      count(o.notice, now);
    }
  }

  // Connection events of the ROUTER, for the peer count in stats.
  void drain_monitor() {
    for (;;) {
      zmq::message_t event, address;
      if (!again_on_eintr([&] { return monitor.recv(event, zmq::recv_flags::dontwait); })) return;
      if (event.more()) (void)again_on_eintr([&] { return monitor.recv(address); });
      if (event.size() < 6) continue;
      std::uint16_t id = 0;
      std::memcpy(&id, event.data(), sizeof id);
      std::uint32_t fd = 0;
      std::memcpy(&fd, event.data<char>() + sizeof id, sizeof fd);
      if (id == ZMQ_EVENT_ACCEPTED) ++peers;
      if (id == ZMQ_EVENT_DISCONNECTED) {
        if (peers > 0) --peers;
        parking.disconnected(static_cast<int>(fd));
      }
    }
  }

  void maybe_sync() {
    if (env.options().sync != storage::SyncMode::none) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_sync < kSyncEvery) return;
    last_sync = now;
    sync_here();
  }

  std::string endpoint(const zmq::socket_t& s) const { return s.get(zmq::sockopt::last_endpoint); }
};

Server::Server(storage::Env& env, ServerOptions opts, Clock clock)
    : impl_(std::make_unique<Impl>(env, std::move(opts), std::move(clock), stats_)) {}

Server::~Server() = default;

std::string Server::router_endpoint() const { return impl_->endpoint(impl_->router); }
std::string Server::status_endpoint() const { return impl_->status_pub->endpoint(); }
std::string Server::requests_endpoint() const { return impl_->requests_pub->endpoint(); }

void Server::run(const std::atomic<bool>& stop, std::atomic<bool>* reload) {
  Impl& im = *impl_;
  // The poll set: ROUTER, both XPUBs, the monitor, then the ZAP socket and
  // the syncer's fd when there are. Rebuilt when a reload rebinds the XPUBs.
  std::vector<zmq::pollitem_t> items;
  int zap_at = -1, syncer_at = -1;
  auto build_items = [&] {
    items = {{im.router.handle(), 0, ZMQ_POLLIN, 0},
             {im.status_pub->socket().handle(), 0, ZMQ_POLLIN, 0},
             {im.requests_pub->socket().handle(), 0, ZMQ_POLLIN, 0},
             {im.monitor.handle(), 0, ZMQ_POLLIN, 0}};
    if (im.gate) {
      zap_at = static_cast<int>(items.size());
      items.push_back({im.gate->zap().handle(), 0, ZMQ_POLLIN, 0});
    }
    if (im.syncer) {
      syncer_at = static_cast<int>(items.size());
      items.push_back({nullptr, im.syncer->fd(), ZMQ_POLLIN, 0});
    }
  };
  build_items();
  while (!stop.load()) {
    if (reload && reload->exchange(false)) {
      if (!im.gate) spdlog::info("SIGHUP: nothing to reload in plain mode");
      else if (im.gate->reload()) {
        im.status_pub->rebind();
        im.requests_pub->rebind();
        spdlog::info("a reload took rights away: publish sockets rebound, subscribers resubscribe under the new keys");
        build_items();
      }
    }
    int ready = 0;
    try {
      ready = zmq::poll(items.data(), items.size(), im.poll_timeout());
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;  // a signal: look at `stop` again
      throw;
    }
    if (ready == 0 && im.store.open()) im.checkpoint();  // idle
    if (zap_at >= 0 && (items[zap_at].revents & ZMQ_POLLIN)) im.gate->answer_zap();
    if (items[1].revents & ZMQ_POLLIN) im.status_pub->drain();
    if (items[2].revents & ZMQ_POLLIN) im.requests_pub->drain();
    if (items[3].revents & ZMQ_POLLIN) im.drain_monitor();
    if (syncer_at >= 0 && (items[syncer_at].revents & ZMQ_POLLIN)) {
      im.syncer->clear();
      im.release();
    }
    impl_->turn();  // requests, and timers or parked dequeues that are due
    impl_->warnings.roll();
    impl_->maybe_sync();
  }
  impl_->release_all();
  impl_->sync_here();
  impl_->checkpoint(true);  // LMDB holds everything: the journal has nothing to apply at the next start
}

}  // namespace ledgerq::transport
