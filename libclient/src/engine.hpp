// Engine: the I/O thread shared by Client and Driver. It owns the ZeroMQ
// context and sockets (a DEALER to the broker's ROUTER, optionally a SUB),
// matches replies to requests by rid, expires requests at their deadline,
// and runs tasks posted from other threads. This is the only code in
// libclient that uses ZeroMQ.
//
// A blocking call may skip the I/O thread: call_direct() sends on a second
// DEALER and waits for the reply there, on the caller's thread, which
// saves a thread wake-up each way. It does so only while no request of
// the engine is unanswered and no posted task is waiting to run, so it
// never overtakes one: a request made before it on the same thread has
// had its reply. After any timeout it is not used again: the request
// that timed out may still reach the broker, behind later ones sent on
// the other socket.
//
// Thread rules: call(), call_direct(), post() and on_io_thread() are
// thread-safe. Every other member, and every callback the engine runs,
// belongs to the I/O thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "codec/codec.hpp"
#include "ledgerq/credentials.hpp"
#include "ledgerq/error.hpp"

namespace ledgerq::client::detail {

namespace wire = ::ledgerq;
using Clock = std::chrono::steady_clock;

/// Gap recovery's cadence, shared by the Client's watcher and the Driver's
/// followers: the first tail check soon after start, and the pause before a
/// failed recovery is tried again.
inline constexpr auto kFirstCheck = std::chrono::milliseconds(50);
inline constexpr auto kRetryBackoff = std::chrono::milliseconds(200);

/// A reply with code ok, or the Error that ended the request.
using Outcome = std::variant<wire::Reply, Error>;
/// Completion of one request; runs on the I/O thread, exactly once.
using Done = std::function<void(Outcome)>;

struct EngineConfig {
  std::string router;
  std::string sub;  ///< empty: no SUB socket
  std::chrono::milliseconds timeout{10'000};
  /// A message [topic][signature][body] from the SUB socket.
  std::function<void(std::string_view topic, std::string_view signature, std::string_view body)> on_publish;
  /// Called every turn of the loop; returns when it wants to be called again.
  std::function<Clock::time_point(Clock::time_point now)> on_tick;
  /// CURVE client keys for both sockets; nullopt: plain.
  std::optional<Credentials> credentials;
};

class Engine {
 public:
  /// Creates and connects the sockets; throws Error(transport) for a bad
  /// endpoint. The thread starts with start().
  explicit Engine(EngineConfig config);
  ~Engine();  ///< stop()s
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  void start();
  /// Stops the thread; requests not yet answered fail with Code::closed.
  /// Idempotent. Must not be called from the I/O thread.
  void stop();

  /// Sends `command`; `done` runs on the I/O thread with the ok reply or the
  /// Error (broker code, timeout, transport, closed). Thread-safe. The reply
  /// is awaited for the configured timeout, or for `timeout` when given (a
  /// dequeue that the broker parks waits its wait_ms on top of it).
  void call(wire::Command command, Done done, std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  /// For a blocking call from an application thread: when no request of
  /// this engine is unanswered and no other direct call is running, sends
  /// `command` (moved from) on the direct socket and returns its outcome,
  /// as call() would give it to `done`. Otherwise nullopt, with `command`
  /// untouched: send it with call().
  std::optional<Outcome> call_direct(wire::Command& command,
                                     std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  /// Runs `task` on the I/O thread, soon. Thread-safe. Returns false (and
  /// drops the task) when the engine has stopped.
  bool post(std::function<void()> task);
  [[nodiscard]] bool on_io_thread() const noexcept { return std::this_thread::get_id() == thread_id_.load(); }

  // --- I/O thread only -------------------------------------------------------
  void subscribe(std::string_view topic);
  void unsubscribe(std::string_view topic);

 private:
  struct Outgoing {
    std::uint64_t rid;
    std::string_view command;  ///< static storage (codec's name table)
    std::string body;
    Clock::time_point deadline;
    std::chrono::milliseconds timeout;  ///< for the timeout message
    Done done;
  };
  struct Pending {
    std::string_view command;
    Clock::time_point deadline;
    std::chrono::milliseconds timeout;
    Done done;
  };

  void secure(zmq::socket_t& s) const;  ///< CURVE client options, when configured
  void run();
  void run_tasks();
  void flush_outbox();
  void read_replies();
  void read_publications();
  Clock::time_point expire(Clock::time_point now);
  void fail_all(const Error& e);
  /// Runs a request's completion, which makes it answered (in_flight_).
  void finish(Done& done, Outcome outcome);
  /// The outcome of a reply's frames to `command`.
  static Outcome outcome_of(std::string_view signature, std::string_view body, std::string_view command);

  EngineConfig config_;
  zmq::context_t ctx_{1};
  zmq::socket_t dealer_;
  zmq::socket_t sub_;
  zmq::socket_t wake_rx_;  ///< I/O thread end of the inproc wake-up pair
  zmq::socket_t wake_tx_;  ///< callers' end; used under mutex_ only

  std::mutex mutex_;
  std::vector<std::function<void()>> tasks_;  ///< guarded by mutex_
  bool stopped_ = false;                      ///< guarded by mutex_
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> next_rid_{1};
  /// Requests made with call() and not yet finished, and posted tasks not
  /// yet run (they may make requests).
  std::atomic<std::uint64_t> in_flight_{0};
  /// call_direct() may be used: false for good once a request has timed
  /// out, since it may still reach the broker behind later ones.
  std::atomic<bool> direct_ok_{true};

  // call_direct()'s socket, made at its first use; under direct_mutex_.
  std::mutex direct_mutex_;
  zmq::socket_t direct_;
  int abort_fd_ = -1;  ///< an eventfd: stop() makes a direct call return closed

  std::thread thread_;
  std::atomic<std::thread::id> thread_id_{};

  // I/O thread state
  std::deque<Outgoing> outbox_;  ///< not yet accepted by the DEALER (mute)
  std::unordered_map<std::uint64_t, Pending> pending_;
  std::priority_queue<std::pair<Clock::time_point, std::uint64_t>,
                      std::vector<std::pair<Clock::time_point, std::uint64_t>>, std::greater<>>
      deadlines_;  ///< lazy: entries whose rid is no longer pending are skipped
};

/// The ok reply's body as type B; throws the Error of a failed outcome.
template <class B> B take(Outcome& o) {
  if (auto* e = std::get_if<Error>(&o)) throw *e;
  auto& r = std::get<wire::Reply>(o);
  if (auto* b = std::get_if<B>(&r.body)) return std::move(*b);
  throw Error(Code::transport, "reply of an unexpected shape");
}

/// Sends `command` and returns a future of convert(reply body B). The future
/// holds the Error of a failed outcome.
template <class B, class F>
auto make_async(Engine& engine, wire::Command command, F convert,
                std::optional<std::chrono::milliseconds> timeout = std::nullopt)
    -> std::future<decltype(convert(std::declval<B&&>()))> {
  using R = decltype(convert(std::declval<B&&>()));
  auto p = std::make_shared<std::promise<R>>();
  auto f = p->get_future();
  engine.call(std::move(command), [p, convert = std::move(convert)](Outcome o) {
    try {
      p->set_value(convert(take<B>(o)));
    } catch (...) {
      p->set_exception(std::current_exception());
    }
  }, timeout);
  return f;
}

/// Waits for a future from a blocking member function; refuses to do so on
/// the I/O thread, which would then wait for itself.
inline void forbid_blocking(const Engine& engine) {
  if (engine.on_io_thread())
    throw std::logic_error("ledgerq: blocking call from a callback of the same Client/Driver");
}
template <class T> T await(const Engine& engine, std::future<T> f) {
  forbid_blocking(engine);
  return f.get();
}

/// A blocking call whose reply needs nothing of the I/O thread: straight on
/// the caller's thread when the engine allows it (Engine::call_direct),
/// else through the I/O thread. Returns convert(reply body B); throws the
/// Error of a failed outcome.
template <class B, class F>
auto blocking(Engine& engine, wire::Command command, F convert,
              std::optional<std::chrono::milliseconds> timeout = std::nullopt)
    -> decltype(convert(std::declval<B&&>())) {
  forbid_blocking(engine);
  if (auto o = engine.call_direct(command, timeout)) return convert(take<B>(*o));
  return make_async<B>(engine, std::move(command), std::move(convert), timeout).get();
}

/// Error(bad_request) unless `s` is a valid client or job id.
void check_id(std::string_view what, std::string_view s);

}  // namespace ledgerq::client::detail
