// ledgerq::client::Worker: one worker of a datasource's pool, in the
// work-queue style (PinLater's): it leases jobs with dequeue, reports each
// outcome with an ack, extends a lease with heartbeats, and may rewrite or
// release a job with checkpoint.
//
// Leases. A dequeue leases jobs to this worker under a fencing token and
// until a deadline. The Worker remembers the token of every job it holds
// (by job id), so ack_*, heartbeat and checkpoint need only the job id. A
// lease that ran out (the broker gave the job back to the queue, or to
// another worker) makes those calls fail with Error(conflict): the work
// done under it must be dropped. After an ack, a conflict or a release
// (checkpoint to_pending) the job is no longer held.
//
// Cancels. A client may cancel a job this worker holds. The Worker
// subscribes to its datasource's request topic and, when a held job's
// cancel entry comes, sets cancel_requested(job) and calls
// WorkerOptions::on_cancel; the worker should stop and ack_cancelled (an
// ack of another outcome ends the job cancelled anyway, unless it is a
// success). Entries the PUB socket lost are made up for: a seq gap, and a
// periodic check while jobs are held, look the held jobs up.
//
// Threads. A Worker owns one I/O thread, like Client and Driver; it blocks
// asynchronous signals, so a SIGCHLD of the worker's commands is handled on
// the application's threads. Every public member is thread-safe. on_cancel
// and on_error run ON THE I/O THREAD: keep them short; blocking members
// throw std::logic_error there (use the *_later or *_async forms).
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

/// The longest a dequeue may wait for a job (the broker's limit).
inline constexpr std::chrono::milliseconds kMaxDequeueWait{600'000};

/// How to reach the broker and how the Worker behaves. Plain data.
struct WorkerOptions {
  std::string router{kDefaultRouter};             ///< the broker's ROUTER endpoint
  std::string requests_pub{kDefaultRequestsPub};  ///< the broker's requests PUB endpoint
  /// How long a command waits for its reply before failing with
  /// Code::timeout. A dequeue waits its `wait` on top of this.
  std::chrono::milliseconds timeout = kDefaultTimeout;
  /// CURVE keys for a broker in secure mode; nullopt: plain mode
  /// (credentials.hpp; Credentials::from_env() reads the tools' variables).
  std::optional<Credentials> credentials;

  /// The worker's name, shown in job records (StatusRecord::worker): free
  /// text of 1..128 bytes such as "nickname:uuid". Empty: "worker:" and 16
  /// random hex digits.
  std::string name;
  /// The job types this worker takes; nullopt: every type, untyped included.
  /// An empty list takes nothing. (A typed worker cannot take untyped jobs:
  /// "" is not a type name.)
  std::optional<std::vector<std::string>> types;
  /// The lease each dequeue asks for; nullopt: the datasource's (30 s unless
  /// configured). At most one day; heartbeats extend it.
  std::optional<std::chrono::milliseconds> lease;

  /// Called on the I/O thread with the id of a held job that its client
  /// asked to cancel; once per lease. May be empty (poll cancel_requested()).
  std::function<void(const std::string& job)> on_cancel;
  /// Called on the I/O thread when background work fails: a piggybacked ack
  /// the broker refused, a cancel check that failed, a callback that threw.
  /// May be empty (errors are then dropped).
  std::function<void(const Error&)> on_error;
  /// Watch for cancels of held jobs (subscribes to the datasource's request
  /// topic, which carries every submit and its body too: turn this off for a
  /// worker that never needs to know).
  bool watch_cancels = true;
  /// While jobs are held, how often their records are looked up to catch
  /// cancels the PUB socket lost, and leases lost. Zero: only on a seq gap.
  std::chrono::milliseconds cancel_check_interval{1'000};
};

/// A job leased to this worker by a dequeue: the job and its lease.
struct LeasedJob {
  std::string job;
  std::string client;         ///< who submitted it
  Payload request;            ///< its body (nil if none)
  std::uint64_t token = 0;    ///< the lease's fencing token (kept by the Worker too)
  Micros lease_until = 0;     ///< the lease's deadline, on the broker's clock
  std::uint32_t attempts = 0;       ///< leases allowed
  std::uint32_t attempts_made = 0;  ///< leases granted so far, this one included
  std::uint8_t priority = 1;
  std::string type;
  std::string key;
  Lifecycle lifecycle = Lifecycle::none;
  std::string custom_status;
  Micros submitted = 0;
  bool cancel_requested = false;  ///< as of the lease (see Worker::cancel_requested)
};

/// What a checkpoint changes; fields left empty are unchanged.
struct CheckpointOptions {
  /// Extend the lease to now + this (a heartbeat). Ignored with to_pending.
  std::optional<std::chrono::milliseconds> lease;
  std::optional<Payload> request;           ///< replace the job's body (e.g. progress so far)
  std::optional<std::string> custom_status; ///< replace the custom status (at most 1024 bytes)
  /// Release the job: back to submitted, attempts_made restarts at 0, a
  /// pending cancel request is dropped; this worker no longer holds it.
  bool to_pending = false;
  std::optional<Micros> run_after;        ///< with to_pending: not eligible before this
  std::optional<std::uint32_t> attempts;  ///< with to_pending: leases allowed from now (>= 1)
};

/// One worker of one datasource. Move-only; destroying it stops the I/O
/// thread (a dequeue waiting for jobs fails with Code::closed; leases held
/// simply run out on the broker). Acks queued with *_later and not yet sent
/// are dropped: call flush_acks() first.
class LEDGERQ_CLIENT_API Worker {
 public:
  /// Connects (lazily: no broker needs to be up yet). Throws
  /// Error(bad_request) for an empty datasource or a bad name,
  /// Error(transport) for an endpoint ZeroMQ refuses.
  explicit Worker(std::string datasource, WorkerOptions options = {});
  ~Worker();
  Worker(Worker&&) noexcept;
  Worker& operator=(Worker&&) noexcept;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  /// The worker's name (given, or generated).
  [[nodiscard]] const std::string& name() const noexcept;
  [[nodiscard]] const std::string& datasource() const noexcept;

  /// Leases up to `limit` (1..1000) eligible jobs: best priority first, then
  /// earliest eligible, then submit order; one job per key at a time. When
  /// none is eligible the broker holds the request up to `wait` (at most
  /// kMaxDequeueWait) and answers as soon as one is: no polling. Returns the
  /// jobs leased, possibly none (the wait passed). Acks queued with *_later
  /// go with it and are applied first. Throws Error(rate_limited) when the
  /// datasource's dequeue rate is spent (nothing was applied; the queued
  /// acks stay queued), Error(not_found) for an unknown datasource,
  /// Error(bad_request) for a bad limit or wait. A dequeue that times out
  /// is sent once more with the same dequeue_id (PROTOCOL.md §10.4,
  /// Repeats): if the first reached the broker, the repeat gets its leases,
  /// so none is left held by nobody; Error(timeout) comes after the second.
  std::vector<LeasedJob> dequeue(std::uint32_t limit = 1,
                                 std::chrono::milliseconds wait = std::chrono::milliseconds::zero());
  [[nodiscard]] std::future<std::vector<LeasedJob>> dequeue_async(
      std::uint32_t limit = 1, std::chrono::milliseconds wait = std::chrono::milliseconds::zero());
  /// What dequeue(limit) would lease now, leasing nothing (a dry run).
  std::vector<JobInfo> peek(std::uint32_t limit = 1);

  /// Reports a held job done: it becomes complete with `response`;
  /// `custom_status` is appended to the job's. Throws Error(conflict) when
  /// the job is not held (never leased here, already acked, or its lease
  /// ran out and the broker refused the token).
  void ack_success(std::string_view job, const Payload& response = Payload(), std::string_view custom_status = {});
  /// Reports a held job failed: it becomes retrying (after `retry_delay`,
  /// or the datasource's backoff) while attempts remain, else failed. A job
  /// whose cancel was requested becomes cancelled.
  void ack_failure(std::string_view job, std::string_view error,
                   std::optional<std::chrono::milliseconds> retry_delay = std::nullopt,
                   std::string_view custom_status = {});
  /// Reports a held job cancelled (the answer to on_cancel): it becomes cancelled.
  void ack_cancelled(std::string_view job, std::string_view custom_status = {});
  /// The same without waiting; the future throws the Error.
  [[nodiscard]] std::future<void> ack_success_async(std::string_view job, const Payload& response = Payload(),
                                                    std::string_view custom_status = {});
  [[nodiscard]] std::future<void> ack_failure_async(std::string_view job, std::string_view error,
                                                    std::optional<std::chrono::milliseconds> retry_delay = std::nullopt,
                                                    std::string_view custom_status = {});
  [[nodiscard]] std::future<void> ack_cancelled_async(std::string_view job, std::string_view custom_status = {});

  /// Queue an ack to go with the next dequeue (piggybacked: one round trip
  /// for both) or flush_acks(). Throw Error(conflict) at once for a job not
  /// held. A queued ack the broker refuses is reported to on_error. If the
  /// carrying dequeue fails, the acks stay queued for the next; after a
  /// timeout they may have been applied already, and the repeat is then
  /// refused (conflict, to on_error).
  void ack_success_later(std::string_view job, const Payload& response = Payload(),
                         std::string_view custom_status = {});
  void ack_failure_later(std::string_view job, std::string_view error,
                         std::optional<std::chrono::milliseconds> retry_delay = std::nullopt,
                         std::string_view custom_status = {});
  void ack_cancelled_later(std::string_view job, std::string_view custom_status = {});
  /// Sends the queued acks now, without a dequeue; one result per ack (no
  /// command when none is queued). Throws Error for a failure of the whole
  /// command (the acks then stay queued).
  std::vector<ItemResult> flush_acks();
  /// How many acks are queued.
  [[nodiscard]] std::size_t queued_acks() const;

  /// Extends a held job's lease to now + `lease` (on the broker's clock);
  /// returns the job's record (lease_until is the new deadline). Throws
  /// Error(conflict) when the lease was already lost.
  StatusRecord heartbeat(std::string_view job, std::chrono::milliseconds lease);
  /// Extends the lease, and/or rewrites the body or custom status, or
  /// releases the job (to_pending). Returns the job's record. Throws
  /// Error(conflict) when the lease was already lost, Error(bad_request) for
  /// run_after/attempts without to_pending.
  StatusRecord checkpoint(std::string_view job, const CheckpointOptions& options);

  /// True when the client asked to cancel this held job (seen on the request
  /// topic, or in a heartbeat/checkpoint/check answer). False for a job not held.
  [[nodiscard]] bool cancel_requested(std::string_view job) const;
  /// True while the Worker holds a lease on `job` (as far as it knows: a
  /// lease that ran out is noticed at the next call or check).
  [[nodiscard]] bool holds(std::string_view job) const;
  /// The jobs held, in id order.
  [[nodiscard]] std::vector<std::string> held_jobs() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;  ///< null only in a moved-from object (destroy or assign it only)
};

}  // namespace ledgerq::client
