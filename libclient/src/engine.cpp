// The I/O thread: one poll loop over the wake-up pair, the DEALER and the
// SUB. Each turn runs posted tasks, sends what the DEALER will take, expires
// requests past their deadline, runs the owner's tick, then polls.
#include "engine.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <exception>
#include <iterator>
#include <utility>

namespace ledgerq::client::detail {

namespace {

constexpr auto kMaxPoll = std::chrono::milliseconds(500);
constexpr int kReadBatch = 1024;  // messages per socket per turn: no socket starves another

Error zmq_failure(const char* what, const zmq::error_t& e) {
  return Error(Code::transport, std::string(what) + ": " + e.what());
}

// Runs a completion or task so that nothing it throws can end the I/O thread.
template <class F, class... A> void guarded(F& f, A&&... a) noexcept {
  try {
    f(std::forward<A>(a)...);
  } catch (...) {
    // Internal completions do not throw; user callbacks are wrapped by their
    // owners, which report to on_error. Nothing left to tell.
  }
}

// zmq_poll, but an interruption (EINTR) is a turn with no events rather
// than a failure. start() blocks signals on the I/O thread, so
// none should come; should one still (a mask changed by code that runs
// there), an interrupted wait must not end the thread and with it every
// request of the Client/Driver/Worker.
void poll_once(std::vector<zmq::pollitem_t>& items, std::chrono::milliseconds wait) {
  try {
    zmq::poll(items, wait);
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) throw;
    for (auto& i : items) i.revents = 0;
  }
}

}  // namespace

void check_id(std::string_view what, std::string_view s) {
  if (s.empty()) throw Error(Code::bad_request, std::string(what) + " must not be empty");
  if (s.size() > codec::Limits::max_id)
    throw Error(Code::too_large, std::string(what) + " longer than 128 bytes");
  if (s.find('\0') != std::string_view::npos)
    throw Error(Code::bad_request, std::string(what) + " must not contain a NUL byte");
}

void Engine::secure(zmq::socket_t& s) const {
  const auto& c = config_.credentials;
  if (!c) return;
  s.set(zmq::sockopt::curve_serverkey, c->server_key);
  s.set(zmq::sockopt::curve_publickey, c->public_key);
  s.set(zmq::sockopt::curve_secretkey, c->secret_key);
}

Engine::Engine(EngineConfig config) : config_(std::move(config)) {
  try {
    dealer_ = zmq::socket_t(ctx_, zmq::socket_type::dealer);
    dealer_.set(zmq::sockopt::linger, 0);
    secure(dealer_);
    dealer_.connect(config_.router);
    if (!config_.sub.empty()) {
      sub_ = zmq::socket_t(ctx_, zmq::socket_type::sub);
      sub_.set(zmq::sockopt::linger, 0);
      secure(sub_);
      sub_.connect(config_.sub);
    }
    wake_rx_ = zmq::socket_t(ctx_, zmq::socket_type::pair);
    wake_rx_.set(zmq::sockopt::linger, 0);
    wake_rx_.bind("inproc://ledgerq-client-wake");
    wake_tx_ = zmq::socket_t(ctx_, zmq::socket_type::pair);
    wake_tx_.set(zmq::sockopt::linger, 0);
    wake_tx_.connect("inproc://ledgerq-client-wake");
  } catch (const zmq::error_t& e) {
    throw zmq_failure("cannot set up sockets", e);
  }
  abort_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (abort_fd_ < 0) throw Error(Code::transport, "cannot set up sockets: eventfd failed");
}

Engine::~Engine() {
  stop();
  ::close(abort_fd_);
}

void Engine::start() {
  // The I/O thread takes no asynchronous signal, as libzmq's own threads
  // do: a signal handled on it would interrupt zmq_poll (EINTR), and the
  // application's handlers (a SIGCHLD, a SIGINT) belong on its own
  // threads. A process-directed signal goes to a thread that does not
  // block it, and the application's thread may be blocking everything for
  // a moment (glibc's posix_spawn and pthread_create do): the I/O thread
  // was then picked. The mask is inherited, so it is in force from the
  // thread's first instruction. Faults stay unblocked: blocked, they would
  // kill the process without running a crash handler.
  sigset_t all, saved;
  sigfillset(&all);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT}) sigdelset(&all, sig);
  pthread_sigmask(SIG_BLOCK, &all, &saved);
  struct Restore {
    const sigset_t& mask;
    ~Restore() { pthread_sigmask(SIG_SETMASK, &mask, nullptr); }
  } restore{saved};
  thread_ = std::thread([this] { run(); });
  // Named, so that a stack dump or /proc tells it from the application's;
  // from here, so that the name is there once the Client (Driver, Worker)
  // is constructed, whether or not the thread has run yet.
  pthread_setname_np(thread_.native_handle(), "ledgerq-io");
}

void Engine::stop() {
  assert(!on_io_thread() && "a Client/Driver must not be destroyed from its own callback");
  {
    std::lock_guard lk(mutex_);
    if (!stopped_) {
      stopped_ = true;
      stop_ = true;
      try {
        wake_tx_.send(zmq::message_t(), zmq::send_flags::dontwait);
      } catch (const zmq::error_t&) {
      }
    }
  }
  // A direct call in progress returns closed, and none starts after this;
  // wait for it to be out of the direct socket.
  const std::uint64_t one = 1;
  (void)!::write(abort_fd_, &one, sizeof one);
  { std::lock_guard direct_lock(direct_mutex_); }
  if (thread_.joinable()) thread_.join();
}

bool Engine::post(std::function<void()> task) {
  std::lock_guard lk(mutex_);
  if (stopped_) return false;
  const bool was_empty = tasks_.empty();
  tasks_.push_back(std::move(task));
  // A task may make requests (a Client's start query does): until it has
  // run, a direct call could overtake them.
  in_flight_.fetch_add(1, std::memory_order_acq_rel);
  // One wake-up per batch: a non-empty queue already has one on its way.
  if (was_empty) {
    try {
      wake_tx_.send(zmq::message_t(), zmq::send_flags::dontwait);
    } catch (const zmq::error_t&) {
      // Only EAGAIN is possible on an inproc pair: a wake-up is pending.
    }
  }
  return true;
}

void Engine::call(wire::Command command, Done done, std::optional<std::chrono::milliseconds> timeout) {
  in_flight_.fetch_add(1, std::memory_order_acq_rel);
  const std::uint64_t rid = next_rid_.fetch_add(1);
  const auto t = timeout.value_or(config_.timeout);
  Outgoing out{rid, wire::command_name(command), {}, Clock::now() + t, t, std::move(done)};
  // Encoding happens on the caller's thread: the codec has no shared state.
  out.body = codec::encode_request(wire::Request{rid, std::move(command)});
  // From the I/O thread itself (completions, ticks, tasks), straight to the
  // outbox: requests keep the order in which they were made.
  if (on_io_thread() && !stop_) {
    outbox_.push_back(std::move(out));
    return;
  }
  auto shared = std::make_shared<Outgoing>(std::move(out));
  if (!post([this, shared] { outbox_.push_back(std::move(*shared)); })) {
    finish(shared->done, Outcome(Error(Code::closed, "the connection was closed")));
  }
}

std::optional<Outcome> Engine::call_direct(wire::Command& command, std::optional<std::chrono::milliseconds> timeout) {
  if (on_io_thread() || !direct_ok_.load(std::memory_order_acquire) ||
      in_flight_.load(std::memory_order_acquire) != 0)
    return std::nullopt;
  std::unique_lock direct_lock(direct_mutex_, std::try_to_lock);
  if (!direct_lock.owns_lock()) return std::nullopt;
  {
    std::lock_guard lk(mutex_);
    if (stopped_) return Outcome(Error(Code::closed, "the connection was closed"));
  }
  const std::string_view name = wire::command_name(command);
  const auto t = timeout.value_or(config_.timeout);
  const std::uint64_t rid = next_rid_.fetch_add(1);
  const std::string body = codec::encode_request(wire::Request{rid, std::move(command)});
  const auto deadline = Clock::now() + t;
  // A request that timed out may still reach the broker, on this socket,
  // after later ones on the I/O thread's: from then on every call takes
  // that thread's DEALER, and this socket goes with what it still holds.
  // So does a socket that failed part-way through a message.
  const auto give_up = [&](Outcome o) {
    direct_ok_.store(false, std::memory_order_release);
    direct_.close();
    return o;
  };
  const auto timed_out = [&](const char* what) {
    return give_up(Outcome(Error(Code::timeout, std::string(what) + " " + std::string(name) + " within " +
                                                    std::to_string(t.count()) + " ms")));
  };
  // The caller's thread may take signals (the I/O thread does not).
  const auto again = [](auto f) {
    for (;;) {
      try {
        return f();
      } catch (const zmq::error_t& e) {
        if (e.num() != EINTR) throw;
      }
    }
  };
  try {
    if (!direct_) {
      direct_ = zmq::socket_t(ctx_, zmq::socket_type::dealer);
      direct_.set(zmq::sockopt::linger, 0);
      secure(direct_);
      direct_.connect(config_.router);
    }
    // Never blocks: the socket carries one request at a time (a call that
    // times out closes it), far below its high-water mark.
    if (!again([&] {
          return direct_.send(zmq::buffer(codec::kSignature), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
        }))
      return timed_out("could not send");
    again([&] { return direct_.send(zmq::buffer(body), zmq::send_flags::none); });
    std::vector<zmq::message_t> frames;
    std::vector<zmq::pollitem_t> items;
    for (;;) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return timed_out("no reply to");
      items = {{static_cast<void*>(direct_), 0, ZMQ_POLLIN, 0}, {nullptr, abort_fd_, ZMQ_POLLIN, 0}};
      poll_once(items, left);
      if (items[1].revents & ZMQ_POLLIN) return Outcome(Error(Code::closed, "the connection was closed"));
      if (!(items[0].revents & ZMQ_POLLIN)) continue;
      for (;;) {
        frames.clear();
        if (!again([&] { return zmq::recv_multipart(direct_, std::back_inserter(frames), zmq::recv_flags::dontwait); }))
          break;
        if (frames.size() != 2 || codec::peek_reply_rid(frames[1].to_string_view()) != rid) continue;
        return outcome_of(frames[0].to_string_view(), frames[1].to_string_view(), name);
      }
    }
  } catch (const zmq::error_t& e) {
    return give_up(Outcome(zmq_failure("direct call", e)));
  }
}

void Engine::subscribe(std::string_view topic) {
  sub_.set(zmq::sockopt::subscribe, topic);
}

void Engine::unsubscribe(std::string_view topic) {
  sub_.set(zmq::sockopt::unsubscribe, topic);
}

void Engine::run_tasks() {
  zmq::message_t m;
  while (wake_rx_.recv(m, zmq::recv_flags::dontwait)) {
  }
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lk(mutex_);
    batch.swap(tasks_);
  }
  for (auto& t : batch) {
    guarded(t);
    in_flight_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void Engine::flush_outbox() {
  while (!outbox_.empty()) {
    Outgoing& o = outbox_.front();
    // A multipart message is atomic: once the first frame is taken, so is the rest.
    auto sent = dealer_.send(zmq::buffer(codec::kSignature), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    if (!sent) return;  // mute (no peer yet, or HWM): retried when POLLOUT says so
    dealer_.send(zmq::buffer(o.body), zmq::send_flags::none);
    deadlines_.emplace(o.deadline, o.rid);
    pending_.emplace(o.rid, Pending{o.command, o.deadline, o.timeout, std::move(o.done)});
    outbox_.pop_front();
  }
}

void Engine::read_replies() {
  std::vector<zmq::message_t> frames;
  for (int i = 0; i < kReadBatch; ++i) {
    frames.clear();
    if (!zmq::recv_multipart(dealer_, std::back_inserter(frames), zmq::recv_flags::dontwait)) return;
    if (frames.size() != 2) continue;  // not a ledgerq reply: nothing to match it to
    const std::string_view sig = frames[0].to_string_view();
    const std::string_view body = frames[1].to_string_view();
    auto it = pending_.find(codec::peek_reply_rid(body));
    if (it == pending_.end()) continue;  // answered after its deadline, or unreadable
    Pending p = std::move(it->second);
    pending_.erase(it);
    finish(p.done, outcome_of(sig, body, p.command));
  }
}

Outcome Engine::outcome_of(std::string_view signature, std::string_view body, std::string_view command) {
  if (auto s = codec::check_signature(signature); !s) return Error(Code::transport, "reply: " + s.error().message);
  auto r = codec::decode_reply(body, command);
  if (!r) return Error(Code::transport, "unreadable reply to " + std::string(command) + ": " + r.error().message);
  if (r->code != wire::Code::ok) return Error(static_cast<Code>(r->code), std::move(r->message));
  return std::move(*r);
}

void Engine::finish(Done& done, Outcome outcome) {
  in_flight_.fetch_sub(1, std::memory_order_acq_rel);
  guarded(done, std::move(outcome));
}

void Engine::read_publications() {
  std::vector<zmq::message_t> frames;
  for (int i = 0; i < kReadBatch; ++i) {
    frames.clear();
    if (!zmq::recv_multipart(sub_, std::back_inserter(frames), zmq::recv_flags::dontwait)) return;
    if (frames.size() != 3 || !config_.on_publish) continue;
    guarded(config_.on_publish, frames[0].to_string_view(), frames[1].to_string_view(),
            frames[2].to_string_view());
  }
}

Clock::time_point Engine::expire(Clock::time_point now) {
  Clock::time_point next = Clock::time_point::max();
  while (!deadlines_.empty() && deadlines_.top().first <= now) {
    auto rid = deadlines_.top().second;
    deadlines_.pop();
    auto it = pending_.find(rid);
    if (it == pending_.end()) continue;
    Pending p = std::move(it->second);
    pending_.erase(it);
    direct_ok_.store(false, std::memory_order_release);  // it may still reach the broker (call_direct)
    finish(p.done, Outcome(Error(Code::timeout, "no reply to " + std::string(p.command) + " within " +
                                                     std::to_string(p.timeout.count()) + " ms")));
  }
  // Completed requests leave their deadline behind; rebuild when they pile up.
  if (deadlines_.size() > 2 * pending_.size() + 1024) {
    decltype(deadlines_) fresh;
    for (auto& [rid, p] : pending_) fresh.emplace(p.deadline, rid);
    deadlines_.swap(fresh);
  }
  if (!deadlines_.empty()) next = deadlines_.top().first;
  for (auto it = outbox_.begin(); it != outbox_.end();) {
    if (it->deadline <= now) {
      Done d = std::move(it->done);
      std::string cmd(it->command);
      const auto it_timeout = it->timeout;
      it = outbox_.erase(it);
      finish(d, Outcome(Error(Code::timeout, "could not send " + cmd + " within " +
                                                  std::to_string(it_timeout.count()) + " ms")));
    } else {
      next = std::min(next, it->deadline);
      ++it;
    }
  }
  return next;
}

void Engine::fail_all(const Error& e) {
  while (!outbox_.empty()) {
    Done d = std::move(outbox_.front().done);
    outbox_.pop_front();
    finish(d, Outcome(e));
  }
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& [rid, p] : pending) finish(p.done, Outcome(e));
  deadlines_ = {};
}

void Engine::run() {
  thread_id_ = std::this_thread::get_id();
  Clock::time_point next_tick = Clock::now();
  std::vector<zmq::pollitem_t> items;
  try {
    while (!stop_) {
      run_tasks();
      flush_outbox();
      const auto now = Clock::now();
      Clock::time_point wake = expire(now);
      if (config_.on_tick && now >= next_tick) next_tick = config_.on_tick(now);
      if (config_.on_tick) wake = std::min(wake, next_tick);
      wake = std::min(wake, now + kMaxPoll);

      items.clear();
      items.push_back({static_cast<void*>(wake_rx_), 0, ZMQ_POLLIN, 0});
      const short dealer_events = static_cast<short>(ZMQ_POLLIN | (outbox_.empty() ? 0 : ZMQ_POLLOUT));
      items.push_back({static_cast<void*>(dealer_), 0, dealer_events, 0});
      if (sub_) items.push_back({static_cast<void*>(sub_), 0, ZMQ_POLLIN, 0});
      auto wait = std::chrono::ceil<std::chrono::milliseconds>(std::max(wake - Clock::now(), Clock::duration::zero()));
      poll_once(items, wait);
      if (items[1].revents & ZMQ_POLLIN) read_replies();
      if (sub_ && (items[2].revents & ZMQ_POLLIN)) read_publications();
    }
  } catch (const zmq::error_t& e) {
    {
      std::lock_guard lk(mutex_);
      stopped_ = true;
    }
    fail_all(zmq_failure("I/O thread stopped", e));
  }
  // Requests posted before the stop still get their answer: closed.
  run_tasks();
  fail_all(Error(Code::closed, "the connection was closed"));
}

}  // namespace ledgerq::client::detail
