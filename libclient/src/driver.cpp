// Driver: datasource administration and updates on the engine's DEALER, and
// the followers of request topics. A follower's state lives on the I/O thread:
//
//   next_ts    deliver entries with timestamp >= next_ts (last delivered + 1)
//   last_seq   seq of the last delivered entry (0: not known)
//   buffer     live entries not yet delivered, by timestamp
//   catching   a `since` query is in flight from next_ts
//
// A live entry is delivered at once when its seq follows last_seq; anything
// else (a gap, an unknown last_seq) asks `since` from next_ts, which also
// delivers the buffered entries in order. The periodic check is a `since`
// too, for losses at the tail of the topic.
#include "ledgerq/driver.hpp"

#include <map>
#include <stdexcept>
#include <vector>

#include "convert.hpp"
#include "engine.hpp"

namespace ledgerq::client {

using detail::Clock;
using detail::Outcome;
namespace wire = ::ledgerq;

namespace {
using detail::kFirstCheck;
using detail::kRetryBackoff;

struct Follower {
  std::string datasource;
  std::string topic;
  EntryCallback on_entry;
  Micros next_ts = 0;
  std::uint64_t last_seq = 0;
  bool catching = false;
  std::map<Micros, wire::RequestEntry> buffer;
  std::shared_ptr<std::promise<void>> first;  ///< follow() waits on it; reset once answered
  Clock::time_point next_check{};
  Clock::duration check_step = kFirstCheck;
  Clock::time_point retry_after{};
};
using FollowerPtr = std::shared_ptr<Follower>;
}  // namespace

struct Driver::Impl {
  explicit Impl(DriverOptions opts);
  ~Impl() { engine.stop(); }

  // I/O thread
  Clock::time_point tick(Clock::time_point now);
  void on_publish(std::string_view topic, std::string_view sig, std::string_view body);
  bool alive(const FollowerPtr& f) const;
  void catch_up(const FollowerPtr& f, Micros from);
  void drain(const FollowerPtr& f);
  void deliver(const FollowerPtr& f, const wire::RequestEntry& e);
  void drop(const std::string& datasource);
  void report(const Error& e) noexcept;

  const DriverOptions options;
  std::map<std::string, FollowerPtr, std::less<>> followers;  // I/O thread

  mutable std::mutex ts_mutex;
  std::map<std::string, Micros, std::less<>> last_ts;  // guarded by ts_mutex

  detail::Engine engine;  // last: its thread uses everything above
};

Driver::Impl::Impl(DriverOptions opts)
    : options(std::move(opts)),
      engine(detail::EngineConfig{
          options.router, options.requests_pub, options.timeout,
          [this](std::string_view t, std::string_view s, std::string_view b) { on_publish(t, s, b); },
          [this](Clock::time_point now) { return tick(now); }, options.credentials}) {
  if (options.requests_pub.empty()) throw Error(Code::bad_request, "DriverOptions::requests_pub is empty");
}

void Driver::Impl::report(const Error& e) noexcept {
  if (!options.on_error) return;
  try {
    options.on_error(e);
  } catch (...) {
  }
}

bool Driver::Impl::alive(const FollowerPtr& f) const {
  auto it = followers.find(f->datasource);
  return it != followers.end() && it->second == f;
}

Clock::time_point Driver::Impl::tick(Clock::time_point now) {
  auto next = now + kRetryBackoff;
  // Copy: a callback run from here may unfollow.
  std::vector<FollowerPtr> fs;
  for (auto& [ds, f] : followers) fs.push_back(f);
  for (auto& f : fs) {
    if (!alive(f) || f->first) continue;  // not yet started: follow() is waiting on it
    if (now >= f->next_check) {
      if (!f->catching && now >= f->retry_after) catch_up(f, f->next_ts);
      f->check_step *= 4;
      if (options.resync_interval.count() > 0) {
        f->check_step = std::min<Clock::duration>(f->check_step, options.resync_interval);
        f->next_check = now + f->check_step;
      } else {
        f->next_check = f->check_step <= std::chrono::seconds(1) ? now + f->check_step : Clock::time_point::max();
      }
    }
    if (alive(f) && !f->buffer.empty() && !f->catching && now >= f->retry_after) drain(f);
    next = std::min(next, f->next_check);
  }
  return next;
}

void Driver::Impl::on_publish(std::string_view t, std::string_view sig, std::string_view body) {
  if (!codec::check_signature(sig)) return;
  auto e = codec::decode_request_entry(body);
  if (!e) {
    report(Error(Code::transport, "unreadable request entry: " + e.error().message));
    return;
  }
  auto it = followers.find(e->datasource);
  if (it == followers.end() || it->second->topic != t) return;
  FollowerPtr f = it->second;
  if (e->timestamp < f->next_ts) return;  // already delivered
  const auto ts = e->timestamp;
  f->buffer.emplace(ts, std::move(*e));
  if (!f->first) drain(f);
}

void Driver::Impl::catch_up(const FollowerPtr& f, Micros from) {
  f->catching = true;
  engine.call(wire::cmd::Since{f->datasource, from, std::nullopt}, [this, f](Outcome o) {
    if (!alive(f)) return;
    wire::reply::Since r;
    try {
      r = detail::take<wire::reply::Since>(o);
    } catch (const Error& e) {
      f->catching = false;
      if (f->first) {  // follow() is waiting: it throws, and nothing is followed
        auto first = std::move(f->first);
        drop(f->datasource);
        first->set_exception(std::current_exception());
        return;
      }
      f->retry_after = Clock::now() + kRetryBackoff;
      report(e);
      return;
    }
    for (const auto& e : r.requests) {
      if (e.timestamp < f->next_ts) continue;
      deliver(f, e);
      if (!alive(f)) return;  // the callback unfollowed
    }
    if (f->first) {
      f->first->set_value();
      f->first.reset();
      f->next_check = Clock::now() + kFirstCheck;
    }
    if (r.more) return catch_up(f, std::max(r.next, f->next_ts));
    f->catching = false;
    drain(f);
  });
}

void Driver::Impl::drain(const FollowerPtr& f) {
  while (!f->buffer.empty() && alive(f)) {
    auto it = f->buffer.begin();
    if (it->first < f->next_ts) {
      f->buffer.erase(it);
    } else if (f->last_seq != 0 && it->second.seq == f->last_seq + 1) {
      auto e = std::move(it->second);
      f->buffer.erase(it);
      deliver(f, e);
    } else {
      break;
    }
  }
  if (alive(f) && !f->buffer.empty() && !f->catching && Clock::now() >= f->retry_after) catch_up(f, f->next_ts);
}

void Driver::Impl::deliver(const FollowerPtr& f, const wire::RequestEntry& e) {
  f->next_ts = e.timestamp + 1;
  f->last_seq = e.seq;
  {
    std::lock_guard lk(ts_mutex);
    last_ts[f->datasource] = e.timestamp;
  }
  try {
    f->on_entry(detail::from_wire(e));
  } catch (const Error& err) {
    report(err);
  } catch (const std::exception& err) {
    report(Error(Code::internal, std::string("follow callback threw: ") + err.what()));
  } catch (...) {
    report(Error(Code::internal, "follow callback threw"));
  }
}

void Driver::Impl::drop(const std::string& datasource) {
  auto it = followers.find(datasource);
  if (it == followers.end()) return;
  engine.unsubscribe(it->second->topic);
  followers.erase(it);
}

// ---------------------------------------------------------------------------

Driver::Driver(DriverOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  impl_->engine.start();
}

Driver::~Driver() = default;
Driver::Driver(Driver&&) noexcept = default;
Driver& Driver::operator=(Driver&&) noexcept = default;

ServerInfo Driver::ping() {
  detail::forbid_blocking(impl_->engine);
  return detail::await(impl_->engine, detail::make_async<wire::reply::Ping>(
                                          impl_->engine, wire::cmd::Ping{},
                                          [](wire::reply::Ping&& r) { return ServerInfo{r.version, r.now, std::move(r.release)}; }));
}

bool Driver::create_datasource(std::string_view datasource) {
  detail::forbid_blocking(impl_->engine);
  return detail::await(impl_->engine, detail::make_async<wire::reply::DsCreate>(
                                          impl_->engine, wire::cmd::DsCreate{std::string(datasource)},
                                          [](wire::reply::DsCreate&& r) { return r.created; }));
}

bool Driver::create_datasource(std::string_view datasource, const DatasourceOptions& options) {
  detail::forbid_blocking(impl_->engine);
  return detail::await(impl_->engine,
                       detail::make_async<wire::reply::DsCreate>(
                           impl_->engine, wire::cmd::DsCreate{std::string(datasource), detail::to_wire(options)},
                           [](wire::reply::DsCreate&& r) { return r.created; }));
}

DatasourceOptions Driver::configure_datasource(std::string_view datasource, const DatasourceOptions& options) {
  detail::forbid_blocking(impl_->engine);
  return detail::await(impl_->engine,
                       detail::make_async<wire::reply::DsConfigure>(
                           impl_->engine, wire::cmd::DsConfigure{std::string(datasource), detail::to_wire(options)},
                           [](wire::reply::DsConfigure&& r) { return detail::from_wire(r.options); }));
}

bool Driver::delete_datasource(std::string_view datasource) {
  detail::forbid_blocking(impl_->engine);
  return detail::await(impl_->engine, detail::make_async<wire::reply::DsDelete>(
                                          impl_->engine, wire::cmd::DsDelete{std::string(datasource)},
                                          [](wire::reply::DsDelete&& r) { return r.deleted; }));
}

std::vector<DatasourceInfo> Driver::list_datasources() {
  detail::forbid_blocking(impl_->engine);
  return detail::await(impl_->engine, detail::make_async<wire::reply::DsList>(
                                          impl_->engine, wire::cmd::DsList{}, [](wire::reply::DsList&& r) {
                                            std::vector<DatasourceInfo> out;
                                            out.reserve(r.datasources.size());
                                            for (const auto& d : r.datasources) out.push_back(detail::from_wire(d));
                                            return out;
                                          }));
}

std::optional<RequestEntry> Driver::latest(std::string_view datasource) {
  detail::forbid_blocking(impl_->engine);
  return detail::await(impl_->engine, detail::make_async<wire::reply::Latest>(
                                          impl_->engine, wire::cmd::Latest{std::string(datasource)},
                                          [](wire::reply::Latest&& r) -> std::optional<RequestEntry> {
                                            if (!r.request) return std::nullopt;
                                            return detail::from_wire(*r.request);
                                          }));
}

std::future<StatusRecord> Driver::update_async(std::string_view datasource, std::string_view job, JobStatus status,
                                               std::optional<Payload> response, std::optional<std::string> error) {
  wire::cmd::Update c{std::string(datasource), std::string(job), detail::to_wire(status), std::nullopt,
                      std::move(error)};
  if (response) c.response = detail::to_wire(*response);
  return detail::make_async<wire::reply::Status>(impl_->engine, std::move(c), [](wire::reply::Status&& r) {
    return detail::from_wire(r.status);
  });
}

StatusRecord Driver::update(std::string_view datasource, std::string_view job, JobStatus status,
                            std::optional<Payload> response, std::optional<std::string> error) {
  detail::forbid_blocking(impl_->engine);
  return detail::await(impl_->engine,
                       update_async(datasource, job, status, std::move(response), std::move(error)));
}

void Driver::follow(std::string_view datasource, Micros from, EntryCallback on_entry) {
  Impl& im = *impl_;
  detail::forbid_blocking(im.engine);
  if (!on_entry) throw std::invalid_argument("ledgerq: follow() needs a callback");
  auto f = std::make_shared<Follower>();
  f->datasource = std::string(datasource);
  f->topic = codec::request_topic(datasource);
  f->on_entry = std::move(on_entry);
  f->next_ts = from;
  f->first = std::make_shared<std::promise<void>>();
  auto done = f->first->get_future();
  const bool posted = im.engine.post([&im, f] {
    if (im.followers.count(f->datasource)) {
      auto first = std::move(f->first);
      first->set_exception(std::make_exception_ptr(
          std::invalid_argument("ledgerq: datasource '" + f->datasource + "' is already followed")));
      return;
    }
    im.followers.emplace(f->datasource, f);
    // Subscribe first, then catch up: every entry is either in the answer to
    // `since` or arrives live after it (and is deduplicated by timestamp).
    im.engine.subscribe(f->topic);
    im.catch_up(f, f->next_ts);
  });
  if (!posted) throw Error(Code::closed, "the connection was closed");
  done.get();
}

void Driver::unfollow(std::string_view datasource) {
  Impl& im = *impl_;
  if (im.engine.on_io_thread()) {
    im.drop(std::string(datasource));
    return;
  }
  auto p = std::make_shared<std::promise<void>>();
  auto done = p->get_future();
  if (!im.engine.post([&im, p, ds = std::string(datasource)] {
        im.drop(ds);
        p->set_value();
      }))
    return;
  done.get();
}

Micros Driver::last_timestamp(std::string_view datasource) const {
  std::lock_guard lk(impl_->ts_mutex);
  auto it = impl_->last_ts.find(datasource);
  return it == impl_->last_ts.end() ? 0 : it->second;
}

// --- operator's tools ---------------------------------------------------------

namespace {
std::vector<JobInfo> infos_of(const std::vector<wire::JobInfo>& js) {
  std::vector<JobInfo> out;
  out.reserve(js.size());
  for (const auto& j : js) out.push_back(detail::from_wire(j));
  return out;
}

wire::cmd::JobFilter to_wire(const JobFilter& f) {
  wire::cmd::JobFilter out;
  if (f.status) out.status = detail::to_wire(*f.status);
  out.type = f.type;
  out.key = f.key;
  out.client = f.client;
  out.priority = f.priority;
  return out;
}
}  // namespace

std::vector<JobInfo> Driver::lookup(std::string_view datasource, const std::vector<std::string>& jobs, bool bodies) {
  detail::forbid_blocking(impl_->engine);
  // A reply stops at its byte budget with `more` (PROTOCOL.md §6.11): ask
  // again for the ids after the last one it answered, until none are left.
  std::vector<JobInfo> out;
  std::vector<std::string> left = jobs;
  while (!left.empty()) {
    auto part = detail::await(impl_->engine, detail::make_async<wire::reply::Lookup>(
                                                 impl_->engine, wire::cmd::Lookup{std::string(datasource), left, bodies},
                                                 [](wire::reply::Lookup&& r) { return r; }));
    // Where the answer stopped: the ids it returned are in request order.
    std::size_t at = 0;
    for (const auto& j : part.jobs) {
      while (at < left.size() && left[at] != j.state.job) ++at;
      ++at;
    }
    auto infos = infos_of(part.jobs);
    out.insert(out.end(), std::make_move_iterator(infos.begin()), std::make_move_iterator(infos.end()));
    if (!part.more || part.jobs.empty() || at >= left.size()) break;
    left.erase(left.begin(), left.begin() + static_cast<std::ptrdiff_t>(at));
  }
  return out;
}

std::optional<JobInfo> Driver::lookup(std::string_view datasource, std::string_view job, bool bodies) {
  auto found = lookup(datasource, std::vector<std::string>{std::string(job)}, bodies);
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

CountResult Driver::count(std::string_view datasource, JobStatus status, std::optional<std::uint8_t> priority,
                          Due due) {
  detail::forbid_blocking(impl_->engine);
  wire::cmd::Count c{std::string(datasource), detail::to_wire(status), priority,
                     due == Due::now ? "now" : due == Due::future ? "future" : ""};
  return detail::await(impl_->engine, detail::make_async<wire::reply::Count>(
                                          impl_->engine, std::move(c),
                                          [](wire::reply::Count&& r) { return CountResult{r.count, r.capped}; }));
}

ScanPage Driver::scan(std::string_view datasource, const JobFilter& filter, std::optional<std::uint32_t> limit,
                      std::string_view continuation) {
  detail::forbid_blocking(impl_->engine);
  wire::cmd::Scan c{std::string(datasource), to_wire(filter), limit, std::string(continuation)};
  return detail::await(impl_->engine, detail::make_async<wire::reply::Scan>(
                                          impl_->engine, std::move(c), [](wire::reply::Scan&& r) {
                                            return ScanPage{infos_of(r.jobs), std::move(r.continuation)};
                                          }));
}

std::uint64_t Driver::scan_all(std::string_view datasource, const JobFilter& filter,
                               const std::function<bool(const JobInfo&)>& visit) {
  std::uint64_t visited = 0;
  std::string next;
  do {
    auto page = scan(datasource, filter, codec::Limits::max_page, next);
    for (const auto& j : page.jobs) {
      ++visited;
      if (!visit(j)) return visited;
    }
    next = std::move(page.continuation);
  } while (!next.empty());
  return visited;
}

HistoryPage Driver::history(std::string_view datasource, std::string_view job, std::string_view continuation) {
  detail::forbid_blocking(impl_->engine);
  wire::cmd::History c{std::string(datasource), std::string(job), std::string(continuation)};
  return detail::await(impl_->engine, detail::make_async<wire::reply::History>(
                                          impl_->engine, std::move(c), [](wire::reply::History&& r) {
                                            HistoryPage page;
                                            page.events.reserve(r.events.size());
                                            for (const auto& e : r.events) page.events.push_back(detail::from_wire(e));
                                            page.continuation = std::move(r.continuation);
                                            return page;
                                          }));
}

std::vector<JobEvent> Driver::history_all(std::string_view datasource, std::string_view job) {
  std::vector<JobEvent> out;
  std::string next;
  do {
    auto page = history(datasource, job, next);
    out.insert(out.end(), std::make_move_iterator(page.events.begin()), std::make_move_iterator(page.events.end()));
    next = std::move(page.continuation);
  } while (!next.empty());
  return out;
}

std::uint64_t Driver::retry_failed(std::string_view datasource, const RetryOptions& options) {
  detail::forbid_blocking(impl_->engine);
  wire::cmd::Retry c{std::string(datasource), options.attempts, options.priority, options.run_after, options.limit,
                     options.jobs};
  return detail::await(impl_->engine, detail::make_async<wire::reply::Retry>(
                                          impl_->engine, std::move(c),
                                          [](wire::reply::Retry&& r) { return r.retried; }));
}

std::uint64_t Driver::delete_jobs(std::string_view datasource, const JobFilter& filter,
                                  std::optional<std::uint32_t> limit) {
  detail::forbid_blocking(impl_->engine);
  wire::cmd::Delete c{std::string(datasource), to_wire(filter), limit};
  return detail::await(impl_->engine, detail::make_async<wire::reply::Delete>(
                                          impl_->engine, std::move(c),
                                          [](wire::reply::Delete&& r) { return r.deleted; }));
}

std::uint64_t Driver::delete_jobs(std::string_view datasource, const std::vector<std::string>& jobs) {
  detail::forbid_blocking(impl_->engine);
  wire::cmd::Delete c{.datasource = std::string(datasource), .jobs = jobs};
  return detail::await(impl_->engine, detail::make_async<wire::reply::Delete>(
                                          impl_->engine, std::move(c),
                                          [](wire::reply::Delete&& r) { return r.deleted; }));
}

}  // namespace ledgerq::client
