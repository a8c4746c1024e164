// Value types shared by Client, Driver and Worker: job statuses, job
// options, status records, notices, request entries, datasource settings.
// All are plain values (copyable, no shared state).
//
// Time has one type everywhere: Micros, integer microseconds since the Unix
// epoch, UTC, assigned by the broker (the key of the event in its log).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledgerq/error.hpp"
#include "ledgerq/export.hpp"
#include "ledgerq/payload.hpp"

namespace ledgerq::client {

/// Microseconds since the Unix epoch, UTC. Assigned by the broker only.
using Micros = std::uint64_t;

/// Default endpoints of a broker on this host.
inline constexpr std::string_view kDefaultRouter = "tcp://127.0.0.1:5555";
inline constexpr std::string_view kDefaultStatusPub = "tcp://127.0.0.1:5556";
inline constexpr std::string_view kDefaultRequestsPub = "tcp://127.0.0.1:5557";
/// Default time a command may wait for its reply.
inline constexpr std::chrono::milliseconds kDefaultTimeout{10'000};

/// A job's status. complete, cancelled, forbidden and failed are terminal:
/// once there, a job never changes again (but Driver::retry_failed may give
/// a failed job more attempts).
enum class JobStatus : std::uint8_t {
  submitted,  ///< stored, nobody holds it yet
  accepted,   ///< a driver took it, or a worker holds it under a lease
  complete,   ///< done; the response (if any) is in the record
  cancelled,  ///< cancelled: by its client while nobody held it, or honoured by its holder
  forbidden,  ///< the driver refused it
  failed,     ///< the driver gave up, or its attempts ran out; the error text says why
  retrying,   ///< waiting for its next attempt (eligible again at run_after)
};

/// The wire name of a status ("submitted", "accepted", ...).
LEDGERQ_CLIENT_API std::string_view to_string(JobStatus status) noexcept;
/// The status named `name`, or nullopt.
LEDGERQ_CLIENT_API std::optional<JobStatus> parse_job_status(std::string_view name) noexcept;
/// True for complete, cancelled, forbidden and failed.
LEDGERQ_CLIENT_API bool is_terminal(JobStatus status) noexcept;

/// What a job's key stands for, on datasources that track resources
/// (DatasourceOptions::resources): the job creates or deletes the resource
/// named by its key, or neither. Jobs of a key that will not exist when their
/// turn comes are refused at submit (not_found) or fail when it comes.
enum class Lifecycle : std::uint8_t {
  none,
  create,   ///< "create" on the wire
  destroy,  ///< "delete" on the wire
};

/// Work-queue options of a submitted job. Every field may be left at its
/// default, and a default-constructed JobOptions sends no options at all.
struct JobOptions {
  std::optional<std::uint8_t> priority;   ///< 1 (highest) to 3; broker default 1
  std::optional<Micros> run_after;        ///< not eligible before this time; default: at once
  std::optional<std::uint32_t> attempts;  ///< leases allowed, >= 1; broker default 2
  std::string type;           ///< workers may take only some types; "" untyped.
                              ///< 1..64 of [A-Za-z0-9_.-] when set
  std::string key;            ///< resource key: one job per key in flight, in submit order; "" none
  Lifecycle lifecycle = Lifecycle::none;  ///< needs a key and a datasource with resources
  std::string custom_status;  ///< free text for people, at most 1024 bytes

  /// True when every field is at its default (nothing to send).
  [[nodiscard]] bool empty() const noexcept {
    return !priority && !run_after && !attempts && type.empty() && key.empty() && lifecycle == Lifecycle::none &&
           custom_status.empty();
  }
};

/// What a client may see of one of its jobs; what workers and operators see
/// of any job (without its request body).
struct StatusRecord {
  std::string job;                  ///< the job id (unique per datasource)
  std::string client;               ///< the client that submitted it
  JobStatus status = JobStatus::submitted;
  std::optional<Payload> response;  ///< set by the driver/worker, usually with complete
  std::string error;                ///< set by the driver/worker; empty when none
  Micros submitted = 0;             ///< timestamp of the submit
  Micros updated = 0;               ///< timestamp of the last change
  /// The client asked to cancel while someone held the job; its holder
  /// decides (a worker should ack it cancelled), or it ends cancelled when
  /// the lease runs out.
  bool cancel_requested = false;

  // Work-queue fields (from JobOptions and the leases).
  std::uint8_t priority = 1;          ///< 1 (highest) to 3
  Micros run_after = 0;               ///< not eligible before (0: since submitted)
  std::uint32_t attempts = 2;         ///< leases allowed
  std::uint32_t attempts_made = 0;    ///< leases granted so far
  std::string type;                   ///< "" untyped
  std::string key;                    ///< resource key; "" none
  Lifecycle lifecycle = Lifecycle::none;
  std::string custom_status;          ///< free text, at most 1024 bytes (the newest kept)
  std::string worker;                 ///< the worker that holds (or last held) it
  Micros lease_until = 0;             ///< while held under a lease: its deadline (0: not leased)
  std::uint64_t token = 0;            ///< fencing token of the latest lease (0: never leased)
};

/// A job with its request body (when asked for): lookup, scan and dry-run
/// dequeue answers.
struct JobInfo {
  StatusRecord state;
  std::optional<Payload> request;  ///< absent when bodies were not asked for
};

/// One event of a job's history (Driver::history): a fact the broker logged
/// about the job, when it logged it. Which fields are set depends on `type`
/// (PROTOCOL.md §7.9); the record after it is what status/lookup show.
struct JobEvent {
  Micros at = 0;                         ///< when it was recorded (its log key), µs
  std::string type;                      ///< "submit", "lease", "expire", "ack", "checkpoint",
                                         ///< "status", "cancel", "retry"; newer brokers may add more
  std::string datasource;
  std::string job;
  std::string client;                    ///< submit, cancel, status
  std::optional<Payload> request;        ///< submit (the body); checkpoint (a new body)
  std::optional<JobOptions> options;     ///< submit, as submitted (when it had any)
  std::optional<JobStatus> status;       ///< the status it led to: status, ack, expire, a releasing checkpoint
  std::optional<Payload> response;      ///< status, ack
  std::optional<std::string> error;      ///< status, ack, expire
  std::string worker;                    ///< lease: who took it
  std::uint64_t token = 0;               ///< lease, ack, checkpoint, expire: the lease's fencing token
  Micros lease_until = 0;                ///< lease, checkpoint: the lease's deadline (0: none)
  std::optional<Micros> run_after;       ///< a retrying ack/expire, checkpoint, retry: not eligible before
  std::optional<std::uint32_t> attempts; ///< checkpoint, retry: attempts allowed from then on
  std::optional<std::uint8_t> priority;  ///< retry
  std::optional<std::string> custom_status;  ///< ack, checkpoint: the custom status after it
};

/// One change of one of a client's jobs, as its status topic delivers it.
struct StatusNotice {
  std::string datasource;
  StatusRecord data;     ///< the job's record after the change
  Micros timestamp = 0;  ///< timestamp of the event that made the change
  std::uint64_t seq = 0; ///< consecutive per client, from 1: no gaps, no repeats
};

/// The kind of a request entry.
enum class EntryType : std::uint8_t {
  request,  ///< a submit: the job's body is in RequestEntry::request
  cancel,   ///< a client asked to cancel the job
  other,    ///< a kind this library does not know (a newer broker)
};

/// A submit or cancel as a driver sees it.
struct RequestEntry {
  std::string datasource;
  EntryType type = EntryType::request;
  std::string job;
  std::string client;
  std::optional<Payload> request;  ///< the job's body; only for EntryType::request
  std::optional<JobOptions> options;  ///< as submitted, when it had any; only for EntryType::request
  Micros timestamp = 0;            ///< strictly increasing per broker
  std::uint64_t seq = 0;           ///< consecutive per datasource, from 1 (0: not known)
};

/// Per-datasource settings. Zero / false means the broker's default.
struct DatasourceOptions {
  std::uint64_t max_pending = 0;   ///< submitted + retrying jobs at most; more: queue_full (0: no cap)
  std::uint32_t dequeue_rate = 0;  ///< jobs leased per second at most; more: rate_limited (0: no limit)
  std::chrono::milliseconds lease{0};       ///< default lease of a dequeue (0: 30 s)
  std::chrono::milliseconds retry_base{0};  ///< first retry delay (0: 1 s); doubles per attempt, jittered
  std::chrono::milliseconds retry_cap{0};   ///< longest retry delay (0: 300 s)
  bool resources = false;  ///< check key lifecycles at submit (see Lifecycle)
  bool paused = false;     ///< dequeues lease nothing (and waiting ones wait); submits still land

  friend bool operator==(const DatasourceOptions& a, const DatasourceOptions& b) noexcept {
    return a.max_pending == b.max_pending && a.dequeue_rate == b.dequeue_rate && a.lease == b.lease &&
           a.retry_base == b.retry_base && a.retry_cap == b.retry_cap && a.resources == b.resources &&
           a.paused == b.paused;
  }
  friend bool operator!=(const DatasourceOptions& a, const DatasourceOptions& b) noexcept { return !(a == b); }
};

/// How many jobs of a datasource are in each status.
struct StatusCounts {
  std::uint64_t submitted = 0, accepted = 0, complete = 0, cancelled = 0, forbidden = 0, failed = 0,
                retrying = 0;
};

/// One datasource, as listed.
struct DatasourceInfo {
  std::string datasource;
  Micros created = 0;     ///< timestamp of its creation
  std::uint64_t seq = 0;  ///< last seq published on its request topic
  DatasourceOptions options;
  StatusCounts counts;
};

/// The answer to a submit.
struct SubmitResult {
  std::string job;
  std::string client;
  Micros timestamp = 0;    ///< the submit's timestamp (the original one on a duplicate)
  bool duplicate = false;  ///< true: an identical submit was already stored; nothing changed
};

/// One job of a Client::submit_batch.
struct BatchJob {
  std::string job;
  Payload request;
  JobOptions options;
};

/// The outcome of one item of a batch (submit_batch, acks): each item
/// succeeds or fails on its own. Failures are values here, not exceptions.
struct ItemResult {
  std::string job;
  Code code = Code::ok;    ///< ok, or why this item was refused (conflict, queue_full, ...)
  std::string message;     ///< the broker's text when code is not ok
  Micros timestamp = 0;    ///< submit: the job's submit timestamp
  bool duplicate = false;  ///< submit: an identical submit was already stored
  [[nodiscard]] bool ok() const noexcept { return code == Code::ok; }
};

/// The answer to a ping.
struct ServerInfo {
  std::uint32_t version = 0;  ///< protocol version the broker speaks
  Micros now = 0;             ///< the broker's clock
  std::string release;        ///< the broker's release, e.g. "0.1.0" ("" from a broker that does not say)
};

}  // namespace ledgerq::client
