// Client: commands on the engine's DEALER, and the watcher of the client's
// status topic. The watcher's state lives on the I/O thread:
//
//   delivered  last seq handed to on_notice; the next one due is delivered+1
//   buffer     live notices that arrived ahead of their turn (a gap), or
//              before the start of the topic was known
//   recovering a `missed` query is in flight, fetching delivered+1 onwards
//
// Start: learn the topic's last seq with missed{limit 0} (or take
// start_after), after the subscription was made, so a notice is either at
// most `last` (old: not delivered) or will be seen live or by a later check.
// Checks: missed{limit 0} soon after start and every resync_interval; if
// the broker's last seq is ahead of delivered, recover.
#include "ledgerq/client.hpp"
#include "ledgerq/version.hpp"

#include <map>
#include <vector>
#include <stdexcept>

#include "convert.hpp"
#include "engine.hpp"

namespace ledgerq::client {

const char* version() noexcept { return LEDGERQ_VERSION; }

using detail::Clock;
using detail::Outcome;
namespace wire = ::ledgerq;

namespace {
using detail::kFirstCheck;
using detail::kRetryBackoff;

// One blocked wait_for: the record must satisfy `until`. Notices that come
// before the answer to its status query are held back (`early`) and offered
// after it: a notice delivered late (recovered with `missed`) may be older
// than the status, and must not be taken for the job's present.
struct Waiter {
  StatusPredicate until;
  std::promise<StatusRecord> promise;
  bool done = false;
  bool primed = false;              ///< the status query has answered
  std::vector<StatusRecord> early;  ///< notices' records from before that
  Micros newest = 0;  ///< `updated` of the newest record offered; older ones are stale
};

// One blocked sync(): every notice up to `target` must be delivered.
struct Syncer {
  std::uint64_t target = 0;
  std::promise<void> promise;
};
}  // namespace

struct Client::Impl {
  Impl(std::string client_id, ClientOptions options);
  ~Impl() { engine.stop(); }

  // I/O thread
  Clock::time_point tick(Clock::time_point now);
  void on_publish(std::string_view topic, std::string_view sig, std::string_view body);
  void start_watching();
  void check();
  void recover(std::uint64_t from);
  void drain();
  void deliver(const wire::StatusNotice& n);
  void offer(const std::shared_ptr<Waiter>& w, const StatusRecord& r);
  void remove(const std::shared_ptr<Waiter>& w);
  void report(const Error& e) noexcept;
  void settle_syncs();

  const std::string id;
  const ClientOptions options;
  const std::string topic;

  std::atomic<std::uint64_t> last_seq{0};

  // I/O thread state
  bool started = false;
  bool starting = false;
  bool checking = false;
  bool recovering = false;
  std::uint64_t delivered = 0;
  std::map<std::uint64_t, wire::StatusNotice> buffer;
  Clock::time_point next_check{};
  Clock::duration check_step = kFirstCheck;
  Clock::time_point retry_after{};
  std::multimap<std::pair<std::string, std::string>, std::shared_ptr<Waiter>> waiters;
  std::vector<std::shared_ptr<Syncer>> syncers;

  detail::Engine engine;  // last: its thread uses everything above
};

Client::Impl::Impl(std::string client_id, ClientOptions opts)
    : id(std::move(client_id)),
      options(std::move(opts)),
      topic(codec::status_topic(id)),
      engine(detail::EngineConfig{
          options.router, options.status_pub, options.timeout,
          [this](std::string_view t, std::string_view s, std::string_view b) { on_publish(t, s, b); },
          [this](Clock::time_point now) { return tick(now); }, options.credentials}) {
  if (options.status_pub.empty()) throw Error(Code::bad_request, "ClientOptions::status_pub is empty");
  // The first task of the I/O thread, so the subscription is made, and the
  // start query sent, before any command the caller makes after construction:
  // the notices of those commands are then never taken for history.
  engine.post([this] {
    engine.subscribe(topic);
    if (options.start_after) {
      delivered = *options.start_after;
      last_seq = delivered;
      started = true;
      recover(delivered + 1);
    } else {
      start_watching();
    }
  });
}

void Client::Impl::report(const Error& e) noexcept {
  if (!options.on_error) return;
  try {
    options.on_error(e);
  } catch (...) {
  }
}

Clock::time_point Client::Impl::tick(Clock::time_point now) {
  if (!started) {
    if (!starting && now >= retry_after) start_watching();
    return now + kRetryBackoff;
  }
  if (now >= next_check) {
    if (!checking && !recovering) check();
    // Early checks close the window before the subscription reaches the
    // broker (50, 200, 800 ms), then the periodic tail check.
    check_step *= 4;
    if (options.resync_interval.count() > 0) {
      check_step = std::min<Clock::duration>(check_step, options.resync_interval);
      next_check = now + check_step;
    } else {
      next_check = check_step <= std::chrono::seconds(1) ? now + check_step : Clock::time_point::max();
    }
  }
  if (!buffer.empty() && !recovering && now >= retry_after) drain();
  return std::min(next_check, now + kRetryBackoff);
}

void Client::Impl::start_watching() {
  starting = true;
  engine.call(wire::cmd::Missed{id, 1, 0}, [this](Outcome o) {
    starting = false;
    try {
      auto r = detail::take<wire::reply::Missed>(o);
      delivered = r.last;
      last_seq = delivered;
      started = true;
      next_check = Clock::now() + kFirstCheck;
      drain();
      settle_syncs();
    } catch (const Error& e) {
      retry_after = Clock::now() + kRetryBackoff;
      report(e);
    }
  });
}

void Client::Impl::check() {
  checking = true;
  engine.call(wire::cmd::Missed{id, delivered + 1, 0}, [this](Outcome o) {
    checking = false;
    try {
      auto r = detail::take<wire::reply::Missed>(o);
      if (r.last > delivered && !recovering) recover(delivered + 1);
    } catch (const Error& e) {
      report(e);
    }
  });
}

void Client::Impl::recover(std::uint64_t from) {
  recovering = true;
  engine.call(wire::cmd::Missed{id, from, std::nullopt}, [this](Outcome o) {
    try {
      auto r = detail::take<wire::reply::Missed>(o);
      for (const auto& n : r.notices) {
        if (n.seq <= delivered) continue;
        if (n.seq > delivered + 1)
          report(Error(Code::not_found, "notices " + std::to_string(delivered + 1) + ".." +
                                            std::to_string(n.seq - 1) + " are no longer kept by the broker"));
        deliver(n);
      }
      if (r.more && r.next > delivered) return recover(r.next);
      recovering = false;
      // Retention may have removed the rest of a gap: skip to what the broker has.
      if (r.notices.empty() && !buffer.empty() && r.last >= buffer.begin()->first && delivered < r.last) {
        report(Error(Code::not_found, "notices from " + std::to_string(delivered + 1) +
                                          " are no longer kept by the broker"));
        delivered = buffer.begin()->first - 1;
      }
      drain();
    } catch (const Error& e) {
      recovering = false;
      retry_after = Clock::now() + kRetryBackoff;
      report(e);
    }
    settle_syncs();
  });
}

void Client::Impl::on_publish(std::string_view t, std::string_view sig, std::string_view body) {
  if (t != topic || !codec::check_signature(sig)) return;
  auto n = codec::decode_status_notice(body);
  if (!n) {
    report(Error(Code::transport, "unreadable status notice: " + n.error().message));
    return;
  }
  if (started && n->seq <= delivered) return;  // already delivered (by `missed`)
  const auto seq = n->seq;
  buffer.emplace(seq, std::move(*n));
  if (started) drain();
}

void Client::Impl::drain() {
  while (!buffer.empty()) {
    auto it = buffer.begin();
    if (it->first <= delivered) {
      buffer.erase(it);
    } else if (it->first == delivered + 1) {
      auto n = std::move(it->second);
      buffer.erase(it);
      deliver(n);
    } else {
      break;
    }
  }
  if (!buffer.empty() && !recovering && Clock::now() >= retry_after) recover(delivered + 1);
  settle_syncs();
}

void Client::Impl::deliver(const wire::StatusNotice& n) {
  delivered = n.seq;
  last_seq = delivered;
  StatusNotice pub;
  try {
    pub = detail::from_wire(n);
  } catch (const Error& e) {
    report(e);
    return;
  }
  if (options.on_notice) {
    try {
      options.on_notice(pub);
    } catch (const Error& e) {
      report(e);
    } catch (const std::exception& e) {
      report(Error(Code::internal, std::string("on_notice threw: ") + e.what()));
    } catch (...) {
      report(Error(Code::internal, "on_notice threw"));
    }
  }
  auto [lo, hi] = waiters.equal_range({pub.datasource, pub.data.job});
  std::vector<std::shared_ptr<Waiter>> ws;
  for (auto it = lo; it != hi; ++it) ws.push_back(it->second);
  for (auto& w : ws) {
    if (w->primed) offer(w, pub.data);
    else w->early.push_back(pub.data);
  }
}

void Client::Impl::offer(const std::shared_ptr<Waiter>& w, const StatusRecord& r) {
  if (w->done || r.updated < w->newest) return;
  w->newest = r.updated;
  try {
    if (!w->until(r)) return;
    w->done = true;
    w->promise.set_value(r);
  } catch (...) {
    w->done = true;
    w->promise.set_exception(std::current_exception());
  }
  remove(w);
}

void Client::Impl::remove(const std::shared_ptr<Waiter>& w) {
  for (auto it = waiters.begin(); it != waiters.end();) {
    if (it->second == w) it = waiters.erase(it);
    else ++it;
  }
}

void Client::Impl::settle_syncs() {
  if (!started) return;
  for (auto it = syncers.begin(); it != syncers.end();) {
    if ((*it)->target <= delivered) {
      (*it)->promise.set_value();
      it = syncers.erase(it);
    } else {
      ++it;
    }
  }
}

// ---------------------------------------------------------------------------

Client::Client(std::string client_id, ClientOptions options) {
  detail::check_id("client id", client_id);
  impl_ = std::make_unique<Impl>(std::move(client_id), std::move(options));
  impl_->engine.start();
}

Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

const std::string& Client::id() const noexcept { return impl_->id; }

// Each command's request and the conversion of its reply, shared by the
// blocking form (detail::blocking) and the _async one.
namespace {
ServerInfo server_info(wire::reply::Ping&& r) { return ServerInfo{r.version, r.now, std::move(r.release)}; }

wire::cmd::Submit submit_command(const std::string& client, std::string_view datasource, std::string_view job,
                                 const Payload& request, const JobOptions& options) {
  return {std::string(datasource), std::string(job), client, detail::to_wire(request), detail::to_wire(options)};
}
SubmitResult submit_result(wire::reply::Submit&& r) {
  return SubmitResult{std::move(r.job), std::move(r.client), r.timestamp, r.duplicate};
}

wire::cmd::SubmitBatch batch_command(const std::string& client, std::string_view datasource,
                                     const std::vector<BatchJob>& jobs) {
  wire::cmd::SubmitBatch c{std::string(datasource), client, {}};
  c.jobs.reserve(jobs.size());
  for (const auto& j : jobs) c.jobs.push_back({j.job, detail::to_wire(j.request), detail::to_wire(j.options)});
  return c;
}
std::vector<ItemResult> batch_results(wire::reply::SubmitBatch&& r) {
  std::vector<ItemResult> out;
  out.reserve(r.results.size());
  for (const auto& i : r.results) out.push_back(detail::from_wire(i));
  return out;
}

StatusRecord record_of(wire::reply::Status&& r) { return detail::from_wire(r.status); }
}  // namespace

ServerInfo Client::ping() {
  return detail::blocking<wire::reply::Ping>(impl_->engine, wire::cmd::Ping{}, server_info);
}

std::future<SubmitResult> Client::submit_async(std::string_view datasource, std::string_view job,
                                               const Payload& request, const JobOptions& options) {
  return detail::make_async<wire::reply::Submit>(
      impl_->engine, submit_command(impl_->id, datasource, job, request, options), submit_result);
}

SubmitResult Client::submit(std::string_view datasource, std::string_view job, const Payload& request,
                            const JobOptions& options) {
  return detail::blocking<wire::reply::Submit>(
      impl_->engine, submit_command(impl_->id, datasource, job, request, options), submit_result);
}

std::future<std::vector<ItemResult>> Client::submit_batch_async(std::string_view datasource,
                                                                const std::vector<BatchJob>& jobs) {
  return detail::make_async<wire::reply::SubmitBatch>(impl_->engine, batch_command(impl_->id, datasource, jobs),
                                                      batch_results);
}

std::vector<ItemResult> Client::submit_batch(std::string_view datasource, const std::vector<BatchJob>& jobs) {
  return detail::blocking<wire::reply::SubmitBatch>(impl_->engine, batch_command(impl_->id, datasource, jobs),
                                                    batch_results);
}

std::future<StatusRecord> Client::cancel_async(std::string_view datasource, std::string_view job) {
  return detail::make_async<wire::reply::Status>(
      impl_->engine, wire::cmd::Cancel{std::string(datasource), std::string(job), impl_->id}, record_of);
}

StatusRecord Client::cancel(std::string_view datasource, std::string_view job) {
  return detail::blocking<wire::reply::Status>(
      impl_->engine, wire::cmd::Cancel{std::string(datasource), std::string(job), impl_->id}, record_of);
}

std::future<StatusRecord> Client::status_async(std::string_view datasource, std::string_view job) {
  return detail::make_async<wire::reply::Status>(
      impl_->engine, wire::cmd::Status{std::string(datasource), std::string(job), impl_->id}, record_of);
}

StatusRecord Client::status(std::string_view datasource, std::string_view job) {
  return detail::blocking<wire::reply::Status>(
      impl_->engine, wire::cmd::Status{std::string(datasource), std::string(job), impl_->id}, record_of);
}

std::optional<StatusRecord> Client::wait_for(std::string_view datasource, std::string_view job,
                                             std::chrono::milliseconds timeout, StatusPredicate until) {
  Impl& im = *impl_;
  detail::forbid_blocking(im.engine);
  auto w = std::make_shared<Waiter>();
  w->until = until ? std::move(until) : [](const StatusRecord& r) { return is_terminal(r.status); };
  auto fut = w->promise.get_future();
  std::pair<std::string, std::string> key{std::string(datasource), std::string(job)};
  // Registered before the status query is sent, so that no change falls
  // between the query's answer and the notices that follow it.
  const bool posted = im.engine.post([&im, w, key] {
    im.waiters.emplace(key, w);
    im.engine.call(wire::cmd::Status{key.first, key.second, im.id}, [&im, w](Outcome o) {
      if (w->done) return;
      try {
        w->primed = true;
        im.offer(w, detail::from_wire(detail::take<wire::reply::Status>(o).status));
        auto early = std::move(w->early);
        for (const auto& r : early) im.offer(w, r);  // stale ones are skipped by `newest`
      } catch (...) {
        w->done = true;
        w->promise.set_exception(std::current_exception());
        im.remove(w);
      }
    });
  });
  if (!posted) throw Error(Code::closed, "the connection was closed");
  if (fut.wait_for(timeout) != std::future_status::ready) {
    im.engine.post([&im, w] {
      w->done = true;
      im.remove(w);
    });
    return std::nullopt;
  }
  return fut.get();
}

std::uint64_t Client::last_seq() const noexcept { return impl_->last_seq.load(); }

bool Client::sync(std::chrono::milliseconds timeout) {
  Impl& im = *impl_;
  detail::forbid_blocking(im.engine);
  auto s = std::make_shared<Syncer>();
  auto fut = s->promise.get_future();
  const bool posted = im.engine.post([&im, s] {
    im.engine.call(wire::cmd::Missed{im.id, 1, 0}, [&im, s](Outcome o) {
      try {
        s->target = detail::take<wire::reply::Missed>(o).last;
      } catch (...) {
        s->promise.set_exception(std::current_exception());
        return;
      }
      im.syncers.push_back(s);
      if (im.started && s->target > im.delivered && !im.recovering) im.recover(im.delivered + 1);
      im.settle_syncs();
    });
  });
  if (!posted) throw Error(Code::closed, "the connection was closed");
  if (fut.wait_for(timeout) != std::future_status::ready) {
    im.engine.post([&im, s] { std::erase(im.syncers, s); });
    return false;
  }
  fut.get();
  return true;
}

}  // namespace ledgerq::client
