// The typed vocabulary of ledgerq: every command, reply, notification, log
// event and stored record, as plain structs. The broker, libclient and the
// tools all speak through these; codec.hpp turns them into bytes and back.
//
// Field names here are the msgpack map keys on the wire (see fields.hpp for
// the exact key of every field and proto-spec/PROTOCOL.md for the contract).
// Times are integer microseconds since the Unix epoch, UTC, assigned by the
// broker: one type everywhere (Micros).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ledgerq {

/// Microseconds since the Unix epoch, UTC. Assigned by the broker only.
using Micros = std::uint64_t;

/// Reply status codes. The class carries retry meaning, as in 9/TSP:
/// 2xx done; 3xx retry later; 4xx do not retry unchanged; 5xx the broker
/// failed, retrying is safe (every mutating command is idempotent or
/// answered from the last known state).
enum class Code : std::uint16_t {
  ok = 200,
  queue_full = 301,   ///< the datasource holds its max_pending jobs: submit later
  rate_limited = 302, ///< the datasource's dequeue rate is spent: dequeue later
  bad_request = 400,  ///< malformed frames, wrong types, missing fields, bad ids
  forbidden = 403,    ///< the job belongs to another client
  not_found = 404,    ///< no such datasource or job
  conflict = 409,     ///< same job id with another body/client; illegal transition
  too_large = 413,    ///< a message, field or body over its limit
  internal = 500,     ///< storage or broker failure; nothing was applied
};

/// The stable lower-case name of a code ("ok", "not_found", ...).
std::string_view code_name(Code c) noexcept;

/// An expected failure, as a value: the code and a human-readable message.
struct Error {
  Code code = Code::internal;
  std::string message;
};

/// A job's status. Terminal statuses (complete, cancelled, forbidden, failed)
/// are final: see domain/transitions.hpp for the rules.
enum class JobStatus : std::uint8_t {
  submitted,
  accepted,
  complete,
  cancelled,
  forbidden,
  failed,
  retrying,
};

std::string_view status_name(JobStatus s) noexcept;
std::optional<JobStatus> parse_status(std::string_view name) noexcept;
bool is_terminal(JobStatus s) noexcept;

/// One msgpack value, kept as its encoded bytes. Request and response bodies
/// are opaque to the broker: stored and returned exactly as the broker
/// re-encoded them on receipt (canonical msgpack: smallest integer widths).
struct Any {
  std::string msgpack;
  friend bool operator==(const Any&, const Any&) = default;
};

// ---------------------------------------------------------------------------
// Records (replies, notifications, the view)

/// Options a job is submitted with (PinLater's, Cast's, BookLogr's). Every
/// field may be left out; the defaults are in the comments.
struct JobOptions {
  std::optional<std::uint8_t> priority;   ///< 1 (highest) to 3; default 1
  std::optional<Micros> run_after;        ///< not eligible before this time; default now
  std::optional<std::uint32_t> attempts;  ///< attempts allowed, >= 1; default 2
  std::string type;           ///< workers pull only the types they handle; "" = untyped
  std::string key;            ///< resource key: one job per key in flight, in submit order
  std::string lifecycle;      ///< "create" | "delete" the key's resource; "" = neither
  std::string custom_status;  ///< free text for people, at most 1024 bytes
  friend bool operator==(const JobOptions&, const JobOptions&) = default;
};

/// What a client may see of its job ("status record" in the seed), and
/// everything a worker or an operator may see of it but the body.
struct StatusRecord {
  std::string job;
  std::string client;
  JobStatus status = JobStatus::submitted;
  std::optional<Any> response;    ///< set by the driver, usually with complete
  std::string error;              ///< set by the driver; empty when none
  Micros submitted = 0;           ///< log key of the submit
  Micros updated = 0;             ///< log key of the last change
  bool cancel_requested = false;  ///< asked to cancel while a worker held it
  std::uint8_t priority = 1;      ///< 1 (highest) to 3
  Micros run_after = 0;           ///< not eligible before (0: since submitted)
  std::uint32_t attempts = 2;     ///< attempts allowed
  std::uint32_t attempts_made = 0;  ///< leases granted so far
  std::string type;               ///< job type ("" untyped)
  std::string key;                ///< resource key ("" none)
  std::string lifecycle;          ///< "create" | "delete" | ""
  std::string custom_status;      ///< free text, at most 1024 bytes
  std::string worker;             ///< the worker that holds (or last held) it
  Micros lease_until = 0;         ///< while accepted under a lease: its deadline
  std::uint64_t token = 0;        ///< fencing token of the latest lease (0: never leased)
  friend bool operator==(const StatusRecord&, const StatusRecord&) = default;
};

/// A job with its body: lookup and dequeue replies, and the view's record.
struct JobInfo {
  StatusRecord state;
  std::optional<Any> request;  ///< absent when not asked for
  friend bool operator==(const JobInfo&, const JobInfo&) = default;
};

/// A job as the view stores it.
struct JobRecord {
  StatusRecord state;
  Any request;
  bool waiting = false;    ///< another job of its key is ahead of it
  std::uint64_t order = 0; ///< its datasource's seq at submit: its key in the jobs table
  friend bool operator==(const JobRecord&, const JobRecord&) = default;
};

/// Per-datasource settings; 0 / false means the default.
struct DsOptions {
  std::uint64_t max_pending = 0;    ///< submitted + retrying jobs at most (0: no cap)
  std::uint32_t dequeue_rate = 0;   ///< jobs leased per second at most (0: no limit)
  std::uint32_t lease_ms = 0;       ///< default lease (0: 30 000 ms)
  std::uint32_t retry_base_ms = 0;  ///< first retry delay (0: 1 000 ms); doubles per attempt
  std::uint32_t retry_cap_ms = 0;   ///< longest retry delay (0: 300 000 ms)
  bool resources = false;           ///< check key lifecycles at submit (Cast)
  bool paused = false;              ///< dequeues lease nothing; submits still land
  friend bool operator==(const DsOptions&, const DsOptions&) = default;
};

/// Jobs of a datasource by status.
struct StatusCounts {
  std::uint64_t submitted = 0, accepted = 0, complete = 0, cancelled = 0, forbidden = 0,
                failed = 0, retrying = 0;
  friend bool operator==(const StatusCounts&, const StatusCounts&) = default;
};

/// A datasource as the view stores it.
struct DatasourceRecord {
  Micros created = 0;     ///< log key of its ds_create
  std::uint64_t seq = 0;  ///< last seq published on its request topic
  DsOptions options;
  bool deleting = false;  ///< ds_delete'd: hidden, its jobs removed in slices (purge events)
  friend bool operator==(const DatasourceRecord&, const DatasourceRecord&) = default;
};

/// Resource existence of a key, for datasources with `resources` (Cast).
struct KeyState {
  bool exists = false;  ///< as of the jobs of the key finished so far
  bool tail = false;    ///< as it will be once every queued job of the key has run
  friend bool operator==(const KeyState&, const KeyState&) = default;
};

/// What stays of a job after GC: enough to answer a resubmit for ever.
struct Tombstone {
  std::string client;
  std::string digest;    ///< hex of a 128-bit hash of the canonical request
  Micros submitted = 0;
  JobStatus status = JobStatus::complete;
  friend bool operator==(const Tombstone&, const Tombstone&) = default;
};

/// A submit or cancel as drivers see it: on the request topic, from latest and
/// from since. `type` is "request" or "cancel".
struct RequestEntry {
  std::string datasource;
  std::string type;        ///< "request" | "cancel"
  std::string job;
  std::string client;
  std::optional<Any> request;  ///< the job's body; only for type "request"
  std::optional<JobOptions> options;  ///< as submitted; only for type "request"
  Micros timestamp = 0;    ///< log key of the submit/cancel event
  std::uint64_t seq = 0;   ///< consecutive per datasource topic, from 1
  friend bool operator==(const RequestEntry&, const RequestEntry&) = default;
};

/// A status change as its client sees it, on the client's status topic and
/// from `missed`.
struct StatusNotice {
  std::string datasource;
  StatusRecord data;
  Micros timestamp = 0;   ///< log key of the event that changed the status
  std::uint64_t seq = 0;  ///< consecutive per client topic, from 1
  friend bool operator==(const StatusNotice&, const StatusNotice&) = default;
};

/// One datasource in a ds_list reply.
struct DatasourceInfo {
  std::string datasource;
  Micros created = 0;
  std::uint64_t seq = 0;
  DsOptions options;
  StatusCounts counts;
  friend bool operator==(const DatasourceInfo&, const DatasourceInfo&) = default;
};

// ---------------------------------------------------------------------------
// Commands (peer -> broker, on the ROUTER)

namespace cmd {
struct Ping {};
struct DsCreate {
  std::string datasource;
  std::optional<DsOptions> options;  ///< used only when the datasource is new
};
struct DsConfigure { std::string datasource; DsOptions options; };
struct DsDelete { std::string datasource; };
struct DsList {};
struct Submit {
  std::string datasource, job, client;
  Any request;
  std::optional<JobOptions> options;
};
/// One job of a submit_batch.
struct BatchJob {
  std::string job;
  Any request;
  std::optional<JobOptions> options;
  friend bool operator==(const BatchJob&, const BatchJob&) = default;
};
struct SubmitBatch {
  std::string datasource, client;
  std::vector<BatchJob> jobs;  ///< 1..1000; each gets its own result
};
struct Cancel { std::string datasource, job, client; };
struct Status { std::string datasource, job, client; };
struct Update {
  std::string datasource, job;
  JobStatus status = JobStatus::accepted;
  std::optional<Any> response;
  std::optional<std::string> error;
};
struct Latest { std::string datasource; };
struct Since {
  std::string datasource;
  Micros timestamp = 0;             ///< inclusive
  std::optional<std::uint32_t> limit;  ///< default 100, at most 1000
};
struct Missed {
  std::string client;
  std::uint64_t seq = 1;            ///< inclusive
  std::optional<std::uint32_t> limit;  ///< default 100, at most 1000; 0: only `last`
};

/// A worker's report on a job it leased.
struct AckItem {
  std::string job;
  std::uint64_t token = 0;   ///< the lease's fencing token
  std::string outcome;       ///< "success" | "failure" | "cancelled"
  std::optional<Any> response;             ///< success
  std::optional<std::string> error;        ///< failure
  std::optional<std::uint32_t> retry_delay_ms;  ///< failure: instead of the backoff
  std::string custom_status;               ///< appended to the job's custom status
  friend bool operator==(const AckItem&, const AckItem&) = default;
};
struct Ack {
  std::string datasource;
  std::vector<AckItem> acks;  ///< 1..1000
};
struct Dequeue {
  std::string datasource;
  std::string worker;                  ///< free text such as "nickname:uuid"
  std::optional<std::uint32_t> limit;  ///< jobs to lease, 1..1000; default 1
  std::optional<std::vector<std::string>> types;  ///< only these job types; absent: all
  std::optional<std::uint32_t> lease_ms;  ///< default: the datasource's
  std::optional<std::uint32_t> wait_ms;   ///< park up to this long for a job (max 600 000)
  bool dry_run = false;                   ///< show what would be leased; lease nothing
  std::vector<AckItem> acks;              ///< applied before leasing (piggyback)
  /// Chosen by the worker, sent again with a repeat of this dequeue (after
  /// a timeout): the repeat answers with this one's leases instead of
  /// taking new ones. "" = not repeatable.
  std::string dequeue_id;
};
struct Checkpoint {
  std::string datasource, job;
  std::uint64_t token = 0;
  std::optional<std::uint32_t> lease_ms;  ///< extend the lease to now + this
  std::optional<Any> request;             ///< replace the body
  std::optional<std::string> custom_status;  ///< replace the custom status
  bool to_pending = false;                ///< release: back to submitted, attempts restart
  std::optional<Micros> run_after;        ///< with to_pending: not before this
  std::optional<std::uint32_t> attempts;  ///< with to_pending: attempts allowed
};
struct Lookup {
  std::string datasource;
  std::vector<std::string> jobs;  ///< 1..1000 ids; unknown ones are left out
  bool bodies = false;
};
struct Count {
  std::string datasource;
  JobStatus status = JobStatus::submitted;
  std::optional<std::uint8_t> priority;
  std::string due;  ///< "now" | "future" | "" (all); only for submitted/retrying
};
/// Filters for scan and delete; each absent one matches all.
struct JobFilter {
  std::optional<JobStatus> status;
  std::string type, key, client;
  std::optional<std::uint8_t> priority;
  friend bool operator==(const JobFilter&, const JobFilter&) = default;
};
struct Scan {
  std::string datasource;
  JobFilter filter;
  std::optional<std::uint32_t> limit;  ///< default 100, at most 1000
  std::string continuation;            ///< from the previous page; "" starts
};
struct Retry {
  std::string datasource;
  std::optional<std::uint32_t> attempts;  ///< attempts granted; default 1
  std::optional<std::uint8_t> priority;   ///< only failed jobs of this priority
  std::optional<Micros> run_after;
  std::optional<std::uint32_t> limit;     ///< default 1000, at most 10000
  /// Only these jobs (1..1000 ids; unknown ones and those not failed are
  /// skipped), in this order. Absent: every failed job, oldest first. An
  /// optional, not an empty vector: an empty list must reach the broker as
  /// a mistake (400), not widen the command to every job.
  std::optional<std::vector<std::string>> jobs;
};
struct Delete {
  std::string datasource;
  JobFilter filter;                       ///< status is required unless `jobs` is given
  std::optional<std::uint32_t> limit;     ///< default 1000, at most 10000
  /// Only these jobs (1..1000 ids; unknown ones skipped), each still checked
  /// against the filters given; as in Retry, present-but-empty is a 400.
  std::optional<std::vector<std::string>> jobs;
};
/// The broker's figures: counters, timers, storage, datasources.
struct Stats {};
/// One job's events from the log, a page at a time.
struct History {
  std::string datasource, job;
  std::string continuation;  ///< from the previous page; "" starts at the job's submit
};
}  // namespace cmd

using Command = std::variant<cmd::Ping, cmd::DsCreate, cmd::DsDelete, cmd::DsList,
                             cmd::Submit, cmd::Cancel, cmd::Status, cmd::Update,
                             cmd::Latest, cmd::Since, cmd::Missed, cmd::DsConfigure,
                             cmd::SubmitBatch, cmd::Dequeue, cmd::Ack, cmd::Checkpoint,
                             cmd::Lookup, cmd::Count, cmd::Scan, cmd::Retry, cmd::Delete,
                             cmd::Stats, cmd::History>;

/// The wire name of a command ("submit", "ds_create", ...).
std::string_view command_name(const Command& c) noexcept;

/// A decoded request: the request id the reply must echo, and the command.
struct Request {
  std::uint64_t rid = 0;
  Command command;
};

// ---------------------------------------------------------------------------
// Reply bodies (broker -> peer). A reply is {rid, code, message?} plus the
// fields of one of these when code is ok.

struct HistoryEvent;  // one entry of a job's history, below with the log's events

namespace reply {
struct Empty {};
struct Ping {
  std::uint32_t version = 0;
  Micros now = 0;
  std::string release;  ///< the broker's release ("" when not said)
  friend bool operator==(const Ping&, const Ping&) = default;
};
struct DsCreate { bool created = false; };
struct DsConfigure { DsOptions options; };
struct DsDelete { bool deleted = false; };
struct DsList { std::vector<DatasourceInfo> datasources; };
struct Submit {
  std::string job, client;
  Micros timestamp = 0;    ///< the original submit's timestamp on a duplicate
  bool duplicate = false;  ///< true: an identical submit was already stored
};
/// One job's outcome in a submit_batch or an ack.
struct ItemResult {
  std::string job;
  Code code = Code::ok;
  std::string message;     ///< when code is not ok
  Micros timestamp = 0;    ///< submit: the job's timestamp
  bool duplicate = false;  ///< submit: an identical submit was already stored
  friend bool operator==(const ItemResult&, const ItemResult&) = default;
};
struct SubmitBatch { std::vector<ItemResult> results; };
/// cancel, status, update and checkpoint answer with the job's status record.
struct Status { StatusRecord status; };
struct Latest { std::optional<RequestEntry> request; };
struct Since {
  std::vector<RequestEntry> requests;
  Micros next = 0;    ///< pass as `timestamp` to continue
  bool more = false;  ///< true: the limit cut the answer short
};
struct Missed {
  std::vector<StatusNotice> notices;
  std::uint64_t next = 0;  ///< pass as `seq` to continue
  bool more = false;
  std::uint64_t last = 0;  ///< last seq assigned on the client's topic (0: none yet)
};
struct Dequeue {
  std::vector<JobInfo> jobs;        ///< leased (or, for a dry run, leasable) jobs
  std::vector<ItemResult> acks;     ///< one per piggybacked ack
};
struct Ack { std::vector<ItemResult> results; };
struct Lookup {
  std::vector<JobInfo> jobs;
  bool more = false;  ///< the reply's byte budget cut it: look up the ids not returned again
};
struct Count {
  std::uint64_t count = 0;
  bool capped = false;  ///< a due-count stopped at 100 000 entries
};
struct Scan {
  std::vector<JobInfo> jobs;
  std::string continuation;  ///< pass back for the next page; "" at the end
};
struct Retry { std::uint64_t retried = 0; };
struct Delete { std::uint64_t deleted = 0; };
/// One datasource's line in stats: its counts and its oldest waiting job.
struct DsStats {
  std::string datasource;
  StatusCounts counts;
  Micros oldest_pending = 0;  ///< eligibility time of the longest-waiting ready job (0: none)
  std::uint64_t submitted_1m = 0;  ///< jobs submitted in the last minute (the submit rate)
  std::uint64_t completed_1m = 0;  ///< jobs completed in the last minute (the completion rate)
  friend bool operator==(const DsStats&, const DsStats&) = default;
};
struct Stats {
  std::uint32_t version = 0;
  std::string release;            ///< the broker's release ("" when not said)
  Micros now = 0;
  Micros started = 0;             ///< when this broker process started
  std::uint64_t requests = 0;     ///< requests received since start
  std::uint64_t transactions = 0; ///< write transactions committed for them (group commit)
  std::uint64_t apply_us = 0;     ///< time spent applying them in write transactions, µs
  std::uint64_t commit_us = 0;    ///< time spent committing those (LMDB's writes and syncs), µs
  std::uint64_t bad_requests = 0;
  std::uint64_t parked = 0;       ///< dequeues that waited for a job
  std::uint64_t expired = 0;      ///< leases that ran out
  std::uint64_t collected = 0;    ///< finished jobs removed by retention
  std::uint64_t trimmed = 0;      ///< log entries removed by retention
  std::uint64_t log_entries = 0;
  std::uint64_t log_bytes = 0;    ///< sum of the log's value sizes
  Micros log_first = 0;           ///< timestamp of the oldest log entry kept (0: empty)
  std::uint64_t notice_bytes = 0; ///< sum of the stored status notices' sizes (trimmed with the log)
  std::uint64_t map_size = 0;     ///< LMDB map size, bytes
  std::uint64_t map_used = 0;     ///< bytes of the map in use (pages up to the last used)
  std::uint64_t map_limit = 0;    ///< the most the map can grow to now (--map-max or the disk's room)
  std::uint64_t peers = 0;        ///< connections to the ROUTER now
  std::uint64_t status_subscriptions = 0;   ///< subscriptions on the status PUB now
  std::uint64_t request_subscriptions = 0;  ///< subscriptions on the requests PUB now
  std::vector<DsStats> datasources;
};
struct History {
  std::vector<HistoryEvent> events;  ///< the job's log entries, oldest first
  std::string continuation;          ///< pass back for the next page; "" at the end
};
}  // namespace reply

using ReplyBody = std::variant<reply::Empty, reply::Ping, reply::DsCreate, reply::DsDelete,
                               reply::DsList, reply::Submit, reply::Status, reply::Latest,
                               reply::Since, reply::Missed, reply::DsConfigure, reply::SubmitBatch,
                               reply::Dequeue, reply::Ack, reply::Lookup, reply::Count, reply::Scan,
                               reply::Retry, reply::Delete, reply::Stats, reply::History>;

struct Reply {
  std::uint64_t rid = 0;
  Code code = Code::ok;
  std::string message;  ///< empty when ok
  ReplyBody body;
};

// ---------------------------------------------------------------------------
// Log events: the value of each `log` entry. The view is their fold.

enum class EventType : std::uint8_t {
  ds_create, ds_delete, submit, cancel, status,  // the core (driver style)
  ds_configure, lease, ack, checkpoint, expire, retry, gc, remove,  // work-queue semantics
  purge,  // one slice of a deleted datasource's removal
};

std::string_view event_type_name(EventType t) noexcept;
std::optional<EventType> parse_event_type(std::string_view name) noexcept;

/// One fact of the log. Which fields an event carries depends on its type
/// (see domain/fold.cpp); the view is the fold of these, in log order.
/// Decisions (the status an ack leads to, a retry's run_after) are taken
/// when the event is recorded and carried in it, so folding never guesses.
struct Event {
  EventType type = EventType::submit;
  std::string datasource;
  std::string job;                  ///< every job event
  std::string client;               ///< submit, cancel, status
  std::optional<Any> request;       ///< submit; checkpoint (new body)
  std::optional<JobOptions> options;  ///< submit
  std::optional<JobStatus> status;  ///< status, ack, expire, checkpoint (to pending)
  std::optional<Any> response;      ///< status, ack
  std::optional<std::string> error; ///< status, ack, expire
  std::string worker;               ///< lease
  std::uint64_t token = 0;          ///< lease, ack, checkpoint, expire
  Micros lease_until = 0;           ///< lease, checkpoint
  std::optional<Micros> run_after;  ///< ack/expire (retry), checkpoint, retry
  std::optional<std::uint32_t> attempts;      ///< checkpoint, retry
  std::optional<std::uint8_t> priority;       ///< retry
  std::optional<std::string> custom_status;  ///< ack (result), checkpoint
  std::optional<DsOptions> ds_options;        ///< ds_create, ds_configure
  std::optional<std::uint32_t> limit;         ///< purge: the most items it removes
  friend bool operator==(const Event&, const Event&) = default;
};

/// One entry of a job's history (the history command): the log key it is
/// stored under and the event, as the log holds it.
struct HistoryEvent {
  Micros at = 0;  ///< the entry's log key: when the event was recorded
  Event event;
  friend bool operator==(const HistoryEvent&, const HistoryEvent&) = default;
};

}  // namespace ledgerq
