// ledgerq::client::Client: an application's handle on a broker. It submits
// jobs, cancels them, asks their status, and watches every status change of
// its own jobs.
//
// Threads. A Client owns one background I/O thread that holds its ZeroMQ
// sockets (a DEALER to the broker's ROUTER, a SUB to its status PUB). Every
// public member function is thread-safe: it hands its command to the I/O
// thread and, for the blocking forms, waits for the reply. A blocking
// submit, submit_batch, status, cancel or ping made while no other command
// of the Client is unanswered skips that thread: it is sent on a second
// DEALER (a second connection to the broker, made at the first such call)
// and its reply read there, on the caller's thread, a thread wake-up less
// each way. One made while others are unanswered goes behind them on the
// I/O thread's DEALER, so commands made one after the other on one thread
// reach the broker in that order. Once any command has timed out (it may
// still reach the broker later), every command takes the I/O thread's
// DEALER. Callbacks
// (ClientOptions::on_notice, on_error) and wait predicates run ON THE I/O
// THREAD, one at a time: keep them short, and never call a blocking member of
// the same Client from them (that would wait on the thread that must answer;
// it throws std::logic_error instead). The *_async forms may be called from
// callbacks, but their futures must not be waited on there. The I/O thread
// (named ledgerq-io) blocks asynchronous signals: the application's signal
// handlers run on its own threads, and a signal never interrupts the I/O
// thread (a blocking call waiting on the caller's thread resumes its wait).
//
// Watching. The Client subscribes to its status topic when constructed and
// delivers every notice to on_notice exactly once, in seq order, with no
// gaps: a notice lost by the PUB socket (high-water mark, reconnect, the
// moments before the subscription reaches the broker) is fetched again with
// the `missed` command. It checks for lost notices on its own, soon after
// start and then every ClientOptions::resync_interval.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledgerq/credentials.hpp"
#include "ledgerq/error.hpp"
#include "ledgerq/export.hpp"
#include "ledgerq/payload.hpp"
#include "ledgerq/types.hpp"

namespace ledgerq::client {

/// How to reach the broker and how the Client behaves. Plain data.
struct ClientOptions {
  std::string router{kDefaultRouter};         ///< the broker's ROUTER endpoint
  std::string status_pub{kDefaultStatusPub};  ///< the broker's status PUB endpoint
  /// How long a command waits for its reply before failing with Code::timeout.
  std::chrono::milliseconds timeout = kDefaultTimeout;
  /// CURVE keys for a broker in secure mode; nullopt: plain mode
  /// (credentials.hpp; Credentials::from_env() reads the tools' variables).
  std::optional<Credentials> credentials;

  /// Called on the I/O thread for every status notice of this client's jobs,
  /// exactly once each, in seq order. Exceptions it throws are caught and
  /// passed to on_error. May be empty.
  std::function<void(const StatusNotice&)> on_notice;
  /// Called on the I/O thread when background work fails: a `missed` that
  /// timed out (it is retried), notices the broker no longer has, a callback
  /// that threw. May be empty (errors are then dropped).
  std::function<void(const Error&)> on_error;

  /// Where watching starts. nullopt: with the first notice after the Client
  /// starts (older ones are not delivered). A number n: with seq n + 1, so 0
  /// replays the topic's whole retained history, and last_seq() saved from a
  /// previous run resumes where it stopped.
  std::optional<std::uint64_t> start_after;
  /// How often the Client asks the broker whether it lost notices at the tail
  /// of its topic (a loss in the middle shows as a gap at once). Zero turns
  /// the periodic check off (the checks just after start still run).
  std::chrono::milliseconds resync_interval{1'000};
};

/// A predicate over a job's record, for Client::wait_for. Runs on the I/O thread.
using StatusPredicate = std::function<bool(const StatusRecord&)>;

/// An application's connection to a broker, acting as one client id.
/// Move-only; destroying it stops the I/O thread, and commands still waiting
/// for a reply fail with Code::closed.
class LEDGERQ_CLIENT_API Client {
 public:
  /// Connects to the broker (ZeroMQ connects lazily: no broker needs to be up
  /// yet) and starts watching `client_id`'s status topic.
  /// Throws Error(bad_request) for an empty id or one with a NUL byte, and
  /// Error(transport) for an endpoint ZeroMQ refuses.
  explicit Client(std::string client_id, ClientOptions options = {});
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// This client's id, as given to the constructor.
  [[nodiscard]] const std::string& id() const noexcept;

  /// Asks the broker for its protocol version and clock.
  ServerInfo ping();

  /// Submits job `job` with body `request` to `datasource`, with work-queue
  /// `options` (priority, run_after, attempts, type, key, lifecycle, custom
  /// status; the defaults send none). Idempotent for ever: the same job id
  /// with the same body returns the original result with duplicate = true
  /// (the options of the repeat are ignored); with another body it throws
  /// Error(conflict). Throws Error(not_found) for an unknown datasource (or,
  /// on a datasource with resources, a key that will not exist when the job
  /// runs), Error(bad_request) for bad options, Error(queue_full) when the
  /// datasource holds its max_pending jobs (retryable: submit later).
  SubmitResult submit(std::string_view datasource, std::string_view job, const Payload& request,
                      const JobOptions& options = {});
  /// The same, without waiting: many submits may be in flight at once (they
  /// are sent in call order on one connection). The future throws the Error.
  [[nodiscard]] std::future<SubmitResult> submit_async(std::string_view datasource, std::string_view job,
                                                       const Payload& request, const JobOptions& options = {});

  /// Submits 1..1000 jobs in one command (one broker transaction). Each job
  /// succeeds or fails on its own: the answer has one ItemResult per job, in
  /// order, with the code submit() would have thrown (conflict, queue_full,
  /// bad_request, ...). Throws Error for a failure of the whole command:
  /// not_found (unknown datasource), bad_request (empty or over 1000 jobs, a
  /// bad job id), too_large, timeout, ...
  std::vector<ItemResult> submit_batch(std::string_view datasource, const std::vector<BatchJob>& jobs);
  [[nodiscard]] std::future<std::vector<ItemResult>> submit_batch_async(std::string_view datasource,
                                                                        const std::vector<BatchJob>& jobs);

  /// Asks to cancel a job; returns its record. A job nobody holds (submitted,
  /// retrying) is cancelled at once (status cancelled). A job a driver or
  /// worker holds (accepted) gets cancel_requested: its holder sees a cancel
  /// entry and decides; a worker's job whose lease runs out ends cancelled.
  /// An ended job is returned unchanged.
  /// Throws Error(not_found) / Error(forbidden) (another client's job).
  StatusRecord cancel(std::string_view datasource, std::string_view job);
  [[nodiscard]] std::future<StatusRecord> cancel_async(std::string_view datasource, std::string_view job);

  /// The current record of one of this client's jobs.
  /// Throws Error(not_found) / Error(forbidden).
  StatusRecord status(std::string_view datasource, std::string_view job);
  [[nodiscard]] std::future<StatusRecord> status_async(std::string_view datasource, std::string_view job);

  /// Blocks until the job's record satisfies `until` (by default: a terminal
  /// status) and returns that record, or returns nullopt after `timeout`.
  /// Looks at the current status first, then at each notice, so a change
  /// that happened before the call is seen too. Throws Error for a failed
  /// status query (not_found for an unknown job, timeout, ...).
  std::optional<StatusRecord> wait_for(std::string_view datasource, std::string_view job,
                                       std::chrono::milliseconds timeout, StatusPredicate until = {});

  /// The seq of the last notice delivered to on_notice (0: none yet, or not
  /// yet known). Save it to resume later with ClientOptions::start_after.
  [[nodiscard]] std::uint64_t last_seq() const noexcept;

  /// Blocks until watching has caught up: the start of the topic is known and
  /// every notice up to the broker's last seq at the time of the call has
  /// been delivered. Returns false after `timeout`. Useful in tests and
  /// before saving last_seq().
  bool sync(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;  ///< null only in a moved-from object (destroy or assign it only)
};

}  // namespace ledgerq::client
