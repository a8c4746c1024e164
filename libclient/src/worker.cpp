// Worker: dequeue/ack/checkpoint on the engine's DEALER, the table of held
// leases, and the watch for cancels on the datasource's request topic.
//
//   held      job -> its lease (token, deadline, when it was granted, whether
//             a cancel was seen). Read by callers' threads (acks need the
//             token), written by completions on the I/O thread: under mutex.
//   later     acks queued for the next dequeue (or flush_acks): under mutex.
//   recent    cancel entries of jobs not (yet) held, by job: the entry and
//             the dequeue reply travel on different sockets, so a cancel may
//             arrive before the lease it applies to. It applies when its
//             timestamp is after the lease's (StatusRecord::updated of the
//             leased record is the lease event's log key). I/O thread only.
//
// Lost entries: a seq gap on the topic, or the periodic check while jobs are
// held, looks the held jobs up (lookup), which also notices lost leases.
#include "ledgerq/worker.hpp"

#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>

#include "convert.hpp"
#include "engine.hpp"

namespace ledgerq::client {

using detail::Clock;
using detail::Outcome;
namespace wire = ::ledgerq;

namespace {
constexpr auto kIdleTick = std::chrono::milliseconds(200);
constexpr std::size_t kRecentCancels = 4096;

struct Held {
  std::uint64_t token = 0;
  Micros lease_until = 0;
  Micros leased_at = 0;  ///< log key of the lease event
  bool cancel_requested = false;
};

// `prefix` and 16 random hex digits.
std::string random_id(const char* prefix) {
  std::random_device rd;
  std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  static constexpr char digits[] = "0123456789abcdef";
  std::string s = prefix;
  for (int i = 0; i < 16; ++i, v >>= 4) s.push_back(digits[v & 15]);
  return s;
}

std::string random_name() { return random_id("worker:"); }

LeasedJob leased_of(const wire::JobInfo& j) {
  const auto r = detail::from_wire(j.state);
  LeasedJob out;
  out.job = r.job;
  out.client = r.client;
  if (j.request) out.request = detail::from_wire(*j.request);
  out.token = r.token;
  out.lease_until = r.lease_until;
  out.attempts = r.attempts;
  out.attempts_made = r.attempts_made;
  out.priority = r.priority;
  out.type = r.type;
  out.key = r.key;
  out.lifecycle = r.lifecycle;
  out.custom_status = r.custom_status;
  out.submitted = r.submitted;
  out.cancel_requested = r.cancel_requested;
  return out;
}
}  // namespace

struct Worker::Impl {
  Impl(std::string ds, WorkerOptions opts);
  ~Impl() { engine.stop(); }

  // any thread
  std::uint64_t token_of(std::string_view job) const;
  wire::cmd::AckItem item(std::string_view job, std::string outcome, std::string_view custom_status) const;
  std::future<void> ack_async(wire::cmd::AckItem a);
  void queue(wire::cmd::AckItem a);
  std::future<StatusRecord> checkpoint_async(std::string_view job, const CheckpointOptions& o);

  // I/O thread
  Clock::time_point tick(Clock::time_point now);
  void on_publish(std::string_view topic, std::string_view sig, std::string_view body);
  void check();
  void leased(const std::vector<wire::JobInfo>& jobs, std::vector<LeasedJob>& out);
  void settle(const wire::cmd::AckItem& a, const ItemResult& r);
  void drop(const std::string& job, std::uint64_t token);
  void mark_cancelled(const std::string& job, Micros at);
  void announce(const std::vector<std::string>& jobs);
  void report(const Error& e) noexcept;

  const std::string datasource;
  const WorkerOptions options;
  const std::string name;
  const std::string topic;
  const bool watching;

  mutable std::mutex mutex;
  std::map<std::string, Held, std::less<>> held;  // guarded by mutex
  std::vector<wire::cmd::AckItem> later;          // guarded by mutex

  // I/O thread state
  std::uint64_t last_seq = 0;
  bool gap = false;
  int checking = 0;  ///< lookups in flight
  Clock::time_point next_check{};
  std::map<std::string, Micros> recent;
  std::deque<std::string> recent_order;

  detail::Engine engine;  // last: its thread uses everything above
};

Worker::Impl::Impl(std::string ds, WorkerOptions opts)
    : datasource(std::move(ds)),
      options(std::move(opts)),
      name(options.name.empty() ? random_name() : options.name),
      topic(codec::request_topic(datasource)),
      watching(options.watch_cancels && !options.requests_pub.empty()),
      engine(detail::EngineConfig{
          options.router, watching ? options.requests_pub : std::string(), options.timeout,
          [this](std::string_view t, std::string_view s, std::string_view b) { on_publish(t, s, b); },
          [this](Clock::time_point now) { return tick(now); }, options.credentials}) {
  if (watching) engine.post([this] { engine.subscribe(topic); });
}

void Worker::Impl::report(const Error& e) noexcept {
  if (!options.on_error) return;
  try {
    options.on_error(e);
  } catch (...) {
  }
}

std::uint64_t Worker::Impl::token_of(std::string_view job) const {
  std::lock_guard lk(mutex);
  auto it = held.find(job);
  if (it == held.end())
    throw Error(Code::conflict, "job '" + std::string(job) + "' is not held by worker " + name);
  return it->second.token;
}

wire::cmd::AckItem Worker::Impl::item(std::string_view job, std::string outcome, std::string_view custom_status) const {
  wire::cmd::AckItem a;
  a.job = std::string(job);
  a.token = token_of(job);
  a.outcome = std::move(outcome);
  a.custom_status = std::string(custom_status);
  return a;
}

// I/O thread: the broker's answer to one ack. The lease ends with the ack,
// and with a refusal that says it had already ended (conflict, not_found).
void Worker::Impl::settle(const wire::cmd::AckItem& a, const ItemResult& r) {
  if (r.ok() || r.code == Code::conflict || r.code == Code::not_found) drop(a.job, a.token);
}

void Worker::Impl::drop(const std::string& job, std::uint64_t token) {
  std::lock_guard lk(mutex);
  auto it = held.find(job);
  if (it != held.end() && it->second.token == token) held.erase(it);
}

std::future<void> Worker::Impl::ack_async(wire::cmd::AckItem a) {
  auto p = std::make_shared<std::promise<void>>();
  auto f = p->get_future();
  wire::cmd::Ack c{datasource, {a}};
  engine.call(std::move(c), [this, p, a = std::move(a)](Outcome o) {
    try {
      auto r = detail::take<wire::reply::Ack>(o);
      if (r.results.size() != 1) throw Error(Code::transport, "ack answered with " + std::to_string(r.results.size()) + " results");
      const ItemResult res = detail::from_wire(r.results.front());
      settle(a, res);
      if (!res.ok()) throw Error(res.code, res.message);
      p->set_value();
    } catch (...) {
      p->set_exception(std::current_exception());
    }
  });
  return f;
}

void Worker::Impl::queue(wire::cmd::AckItem a) {
  std::lock_guard lk(mutex);
  for (const auto& q : later)
    if (q.job == a.job) throw Error(Code::conflict, "an ack of job '" + a.job + "' is already queued");
  later.push_back(std::move(a));
}

std::future<StatusRecord> Worker::Impl::checkpoint_async(std::string_view job, const CheckpointOptions& o) {
  wire::cmd::Checkpoint c;
  c.datasource = datasource;
  c.job = std::string(job);
  c.token = token_of(job);
  if (o.lease) c.lease_ms = detail::to_ms32(*o.lease, "lease");
  if (o.request) c.request = detail::to_wire(*o.request);
  c.custom_status = o.custom_status;
  c.to_pending = o.to_pending;
  c.run_after = o.run_after;
  c.attempts = o.attempts;
  auto p = std::make_shared<std::promise<StatusRecord>>();
  auto f = p->get_future();
  const std::string j = c.job;
  const std::uint64_t token = c.token;
  const bool release = o.to_pending;
  engine.call(std::move(c), [this, p, j, token, release](Outcome out) {
    try {
      if (auto* e = std::get_if<Error>(&out); e && (e->code() == Code::conflict || e->code() == Code::not_found))
        drop(j, token);
      auto rec = detail::from_wire(detail::take<wire::reply::Status>(out).status);
      if (release) {
        drop(j, token);
      } else {
        bool cancel = false;
        {
          std::lock_guard lk(mutex);
          auto it = held.find(j);
          if (it != held.end() && it->second.token == token) {
            it->second.lease_until = rec.lease_until;
            cancel = rec.cancel_requested && !it->second.cancel_requested;
            if (cancel) it->second.cancel_requested = true;
          }
        }
        if (cancel) announce({j});
      }
      p->set_value(std::move(rec));
    } catch (...) {
      p->set_exception(std::current_exception());
    }
  });
  return f;
}

void Worker::Impl::leased(const std::vector<wire::JobInfo>& jobs, std::vector<LeasedJob>& out) {
  std::vector<std::string> cancels;
  {
    std::lock_guard lk(mutex);
    for (const auto& j : jobs) {
      out.push_back(leased_of(j));
      LeasedJob& l = out.back();
      Held h{l.token, l.lease_until, j.state.updated, l.cancel_requested};
      // A cancel entry that overtook this lease's reply.
      if (auto it = recent.find(l.job); it != recent.end() && it->second > h.leased_at) h.cancel_requested = true;
      if (h.cancel_requested) {
        l.cancel_requested = true;
        cancels.push_back(l.job);
      }
      held[l.job] = h;
    }
  }
  announce(cancels);
}

void Worker::Impl::mark_cancelled(const std::string& job, Micros at) {
  bool fresh = false;
  {
    std::lock_guard lk(mutex);
    auto it = held.find(job);
    if (it != held.end() && (at == 0 || at > it->second.leased_at)) {
      fresh = !it->second.cancel_requested;
      it->second.cancel_requested = true;
    }
  }
  if (fresh) announce({job});
}

void Worker::Impl::announce(const std::vector<std::string>& jobs) {
  if (!options.on_cancel) return;
  for (const auto& j : jobs) {
    try {
      options.on_cancel(j);
    } catch (const Error& e) {
      report(e);
    } catch (const std::exception& e) {
      report(Error(Code::internal, std::string("on_cancel threw: ") + e.what()));
    } catch (...) {
      report(Error(Code::internal, "on_cancel threw"));
    }
  }
}

void Worker::Impl::on_publish(std::string_view t, std::string_view sig, std::string_view body) {
  if (t != topic || !codec::check_signature(sig)) return;
  auto e = codec::decode_request_entry(body);
  if (!e) {
    report(Error(Code::transport, "unreadable request entry: " + e.error().message));
    return;
  }
  if (e->datasource != datasource) return;
  if (last_seq != 0 && e->seq > last_seq + 1) gap = true;
  if (e->seq > last_seq) last_seq = e->seq;
  if (e->type != "cancel") return;
  bool is_held;
  {
    std::lock_guard lk(mutex);
    is_held = held.count(e->job) > 0;
  }
  if (is_held) mark_cancelled(e->job, e->timestamp);
  if (recent.insert_or_assign(e->job, e->timestamp).second) {
    recent_order.push_back(e->job);
    if (recent_order.size() > kRecentCancels) {
      recent.erase(recent_order.front());
      recent_order.pop_front();
    }
  }
}

Clock::time_point Worker::Impl::tick(Clock::time_point now) {
  if (!watching) return now + std::chrono::hours(1);
  const bool periodic_on = options.cancel_check_interval.count() > 0;
  const bool periodic = periodic_on && now >= next_check;
  if (periodic) next_check = now + options.cancel_check_interval;
  // One check at a time; a gap seen meanwhile is checked after it.
  if ((gap || periodic) && checking == 0) {
    gap = false;
    check();
  }
  return periodic_on ? std::min(now + kIdleTick, next_check) : now + kIdleTick;
}

// Looks the held jobs up: their cancel_requested, and whether the lease is
// still theirs (a lease that ran out, or was taken over, is dropped).
void Worker::Impl::check() {
  std::map<std::string, std::uint64_t> snapshot;
  {
    std::lock_guard lk(mutex);
    for (const auto& [job, h] : held) snapshot.emplace(job, h.token);
  }
  if (snapshot.empty()) return;
  std::vector<std::string> chunk;
  auto send = [&] {
    ++checking;
    wire::cmd::Lookup c{datasource, chunk, false};
    engine.call(std::move(c), [this, snapshot, asked = chunk](Outcome o) {
      --checking;
      wire::reply::Lookup r;
      try {
        r = detail::take<wire::reply::Lookup>(o);
      } catch (const Error& e) {
        report(e);
        return;
      }
      std::map<std::string, const wire::JobInfo*> found;
      for (const auto& j : r.jobs) found.emplace(j.state.job, &j);
      for (const auto& job : asked) {
        const std::uint64_t token = snapshot.at(job);
        auto it = found.find(job);
        if (it == found.end()) {
          drop(job, token);  // deleted
          continue;
        }
        const auto& s = it->second->state;
        if (s.token != token || s.status != wire::JobStatus::accepted || s.lease_until == 0) {
          drop(job, token);  // the lease ended or another one began
        } else if (s.cancel_requested) {
          mark_cancelled(job, 0);
        }
      }
    });
    chunk.clear();
  };
  for (const auto& [job, token] : snapshot) {
    chunk.push_back(job);
    if (chunk.size() == codec::Limits::max_page) send();
  }
  if (!chunk.empty()) send();
}

// ---------------------------------------------------------------------------

Worker::Worker(std::string datasource, WorkerOptions options) {
  detail::check_id("datasource", datasource);
  if (!options.name.empty()) detail::check_id("worker name", options.name);
  if (options.lease) (void)detail::to_ms32(*options.lease, "lease");
  impl_ = std::make_unique<Impl>(std::move(datasource), std::move(options));
  impl_->engine.start();
}

Worker::~Worker() = default;
Worker::Worker(Worker&&) noexcept = default;
Worker& Worker::operator=(Worker&&) noexcept = default;

const std::string& Worker::name() const noexcept { return impl_->name; }
const std::string& Worker::datasource() const noexcept { return impl_->datasource; }

std::future<std::vector<LeasedJob>> Worker::dequeue_async(std::uint32_t limit, std::chrono::milliseconds wait) {
  Impl& im = *impl_;
  if (wait.count() < 0) throw Error(Code::bad_request, "wait must not be negative");
  wire::cmd::Dequeue c;
  c.datasource = im.datasource;
  c.worker = im.name;
  c.limit = limit;
  c.types = im.options.types;
  if (im.options.lease) c.lease_ms = detail::to_ms32(*im.options.lease, "lease");
  if (wait.count() > 0) c.wait_ms = detail::to_ms32(wait, "wait");
  {
    std::lock_guard lk(im.mutex);
    c.acks.swap(im.later);
  }
  // Repeatable: a dequeue that timed out is sent once more with the same
  // id, and the broker answers it with the first one's leases, if the first
  // arrived (a broker restarting, a slow network), instead of leasing more
  // jobs that would sit held until their leases ran out.
  c.dequeue_id = random_id("dq:");
  auto acks = c.acks;
  auto p = std::make_shared<std::promise<std::vector<LeasedJob>>>();
  auto f = p->get_future();
  const auto timeout = im.options.timeout + wait;  // the broker may hold it for its whole wait
  auto command = std::make_shared<wire::cmd::Dequeue>(std::move(c));
  auto resent = std::make_shared<bool>(false);
  auto done = std::make_shared<std::function<void(Outcome)>>();
  // The engine's callbacks own `done`; it refers to itself weakly, to send
  // the repeat from inside its first call.
  std::weak_ptr<std::function<void(Outcome)>> self = done;
  *done = [&im, p, acks = std::move(acks), command, resent, self, timeout](Outcome o) {
        if (auto* e = std::get_if<Error>(&o); e && e->code() == Code::timeout && !*resent) {
          *resent = true;
          if (auto again = self.lock()) {
            im.engine.call(*command, [again](Outcome o2) { (*again)(std::move(o2)); }, timeout);
            return;
          }
        }
        wire::reply::Dequeue r;
        try {
          r = detail::take<wire::reply::Dequeue>(o);
        } catch (...) {
          if (!acks.empty()) {  // not applied (or not known to be): they go with the next
            std::lock_guard lk(im.mutex);
            im.later.insert(im.later.begin(), acks.begin(), acks.end());
          }
          p->set_exception(std::current_exception());
          return;
        }
        for (std::size_t i = 0; i < acks.size() && i < r.acks.size(); ++i) {
          const ItemResult res = detail::from_wire(r.acks[i]);
          im.settle(acks[i], res);
          if (!res.ok())
            im.report(Error(res.code, "queued ack of job '" + acks[i].job + "' (" + acks[i].outcome +
                                          ") refused: " + res.message));
        }
        std::vector<LeasedJob> out;
        try {
          im.leased(r.jobs, out);
        } catch (...) {
          p->set_exception(std::current_exception());
          return;
        }
        p->set_value(std::move(out));
      };
  im.engine.call(*command, [done](Outcome o) { (*done)(std::move(o)); }, timeout);
  return f;
}

std::vector<LeasedJob> Worker::dequeue(std::uint32_t limit, std::chrono::milliseconds wait) {
  detail::forbid_blocking(impl_->engine);
  return detail::await(impl_->engine, dequeue_async(limit, wait));
}

std::vector<JobInfo> Worker::peek(std::uint32_t limit) {
  Impl& im = *impl_;
  detail::forbid_blocking(im.engine);
  wire::cmd::Dequeue c;
  c.datasource = im.datasource;
  c.worker = im.name;
  c.limit = limit;
  c.types = im.options.types;
  c.dry_run = true;
  return detail::await(im.engine, detail::make_async<wire::reply::Dequeue>(
                                      im.engine, std::move(c), [](wire::reply::Dequeue&& r) {
                                        std::vector<JobInfo> out;
                                        for (const auto& j : r.jobs) out.push_back(detail::from_wire(j));
                                        return out;
                                      }));
}

std::future<void> Worker::ack_success_async(std::string_view job, const Payload& response,
                                            std::string_view custom_status) {
  auto a = impl_->item(job, "success", custom_status);
  a.response = detail::to_wire(response);
  return impl_->ack_async(std::move(a));
}

std::future<void> Worker::ack_failure_async(std::string_view job, std::string_view error,
                                            std::optional<std::chrono::milliseconds> retry_delay,
                                            std::string_view custom_status) {
  auto a = impl_->item(job, "failure", custom_status);
  a.error = std::string(error);
  if (retry_delay) a.retry_delay_ms = detail::to_ms32(*retry_delay, "retry_delay");
  return impl_->ack_async(std::move(a));
}

std::future<void> Worker::ack_cancelled_async(std::string_view job, std::string_view custom_status) {
  return impl_->ack_async(impl_->item(job, "cancelled", custom_status));
}

void Worker::ack_success(std::string_view job, const Payload& response, std::string_view custom_status) {
  detail::forbid_blocking(impl_->engine);
  detail::await(impl_->engine, ack_success_async(job, response, custom_status));
}

void Worker::ack_failure(std::string_view job, std::string_view error,
                         std::optional<std::chrono::milliseconds> retry_delay, std::string_view custom_status) {
  detail::forbid_blocking(impl_->engine);
  detail::await(impl_->engine, ack_failure_async(job, error, retry_delay, custom_status));
}

void Worker::ack_cancelled(std::string_view job, std::string_view custom_status) {
  detail::forbid_blocking(impl_->engine);
  detail::await(impl_->engine, ack_cancelled_async(job, custom_status));
}

void Worker::ack_success_later(std::string_view job, const Payload& response, std::string_view custom_status) {
  auto a = impl_->item(job, "success", custom_status);
  a.response = detail::to_wire(response);
  impl_->queue(std::move(a));
}

void Worker::ack_failure_later(std::string_view job, std::string_view error,
                               std::optional<std::chrono::milliseconds> retry_delay,
                               std::string_view custom_status) {
  auto a = impl_->item(job, "failure", custom_status);
  a.error = std::string(error);
  if (retry_delay) a.retry_delay_ms = detail::to_ms32(*retry_delay, "retry_delay");
  impl_->queue(std::move(a));
}

void Worker::ack_cancelled_later(std::string_view job, std::string_view custom_status) {
  impl_->queue(impl_->item(job, "cancelled", custom_status));
}

std::vector<ItemResult> Worker::flush_acks() {
  Impl& im = *impl_;
  detail::forbid_blocking(im.engine);
  std::vector<wire::cmd::AckItem> acks;
  {
    std::lock_guard lk(im.mutex);
    acks.swap(im.later);
  }
  if (acks.empty()) return {};
  auto p = std::make_shared<std::promise<std::vector<ItemResult>>>();
  auto f = p->get_future();
  im.engine.call(wire::cmd::Ack{im.datasource, acks}, [&im, p, acks](Outcome o) {
    try {
      auto r = detail::take<wire::reply::Ack>(o);
      std::vector<ItemResult> out;
      for (std::size_t i = 0; i < r.results.size(); ++i) {
        out.push_back(detail::from_wire(r.results[i]));
        if (i < acks.size()) im.settle(acks[i], out.back());
      }
      p->set_value(std::move(out));
    } catch (...) {
      {
        std::lock_guard lk(im.mutex);
        im.later.insert(im.later.begin(), acks.begin(), acks.end());
      }
      p->set_exception(std::current_exception());
    }
  });
  return f.get();
}

std::size_t Worker::queued_acks() const {
  std::lock_guard lk(impl_->mutex);
  return impl_->later.size();
}

StatusRecord Worker::heartbeat(std::string_view job, std::chrono::milliseconds lease) {
  CheckpointOptions o;
  o.lease = lease;
  return checkpoint(job, o);
}

StatusRecord Worker::checkpoint(std::string_view job, const CheckpointOptions& options) {
  detail::forbid_blocking(impl_->engine);
  return detail::await(impl_->engine, impl_->checkpoint_async(job, options));
}

bool Worker::cancel_requested(std::string_view job) const {
  std::lock_guard lk(impl_->mutex);
  auto it = impl_->held.find(job);
  return it != impl_->held.end() && it->second.cancel_requested;
}

bool Worker::holds(std::string_view job) const {
  std::lock_guard lk(impl_->mutex);
  return impl_->held.find(job) != impl_->held.end();
}

std::vector<std::string> Worker::held_jobs() const {
  std::lock_guard lk(impl_->mutex);
  std::vector<std::string> out;
  for (const auto& [job, h] : impl_->held) out.push_back(job);
  return out;
}

}  // namespace ledgerq::client
