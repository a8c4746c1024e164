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

/// What a client may see of its job ("status record" in the seed).
struct StatusRecord {
  std::string job;
  std::string client;
  JobStatus status = JobStatus::submitted;
  std::optional<Any> response;    ///< set by the driver, usually with complete
  std::string error;              ///< set by the driver; empty when none
  Micros submitted = 0;           ///< log key of the submit
  Micros updated = 0;             ///< log key of the last change
  bool cancel_requested = false;  ///< the client asked to cancel; driver decides
  friend bool operator==(const StatusRecord&, const StatusRecord&) = default;
};

/// A job as the view stores it: the status record plus the request body.
struct JobRecord {
  StatusRecord state;
  Any request;
  friend bool operator==(const JobRecord&, const JobRecord&) = default;
};

/// A datasource as the view stores it.
struct DatasourceRecord {
  Micros created = 0;     ///< log key of its ds_create
  std::uint64_t seq = 0;  ///< last seq published on its request topic
  friend bool operator==(const DatasourceRecord&, const DatasourceRecord&) = default;
};

/// A submit or cancel as drivers see it: on the request topic, from latest and
/// from since. `type` is "request" or "cancel".
struct RequestEntry {
  std::string datasource;
  std::string type;        ///< "request" | "cancel"
  std::string job;
  std::string client;
  std::optional<Any> request;  ///< the job's body; only for type "request"
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
  friend bool operator==(const DatasourceInfo&, const DatasourceInfo&) = default;
};

// ---------------------------------------------------------------------------
// Commands (peer -> broker, on the ROUTER)

namespace cmd {
struct Ping {};
struct DsCreate { std::string datasource; };
struct DsDelete { std::string datasource; };
struct DsList {};
struct Submit { std::string datasource, job, client; Any request; };
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
}  // namespace cmd

using Command = std::variant<cmd::Ping, cmd::DsCreate, cmd::DsDelete, cmd::DsList,
                             cmd::Submit, cmd::Cancel, cmd::Status, cmd::Update,
                             cmd::Latest, cmd::Since, cmd::Missed>;

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

namespace reply {
struct Empty {};
struct Ping { std::uint32_t version = 0; Micros now = 0; };
struct DsCreate { bool created = false; };
struct DsDelete { bool deleted = false; };
struct DsList { std::vector<DatasourceInfo> datasources; };
struct Submit {
  std::string job, client;
  Micros timestamp = 0;    ///< the original submit's timestamp on a duplicate
  bool duplicate = false;  ///< true: an identical submit was already stored
};
/// cancel, status and update answer with the job's status record.
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
}  // namespace reply

using ReplyBody = std::variant<reply::Empty, reply::Ping, reply::DsCreate, reply::DsDelete,
                               reply::DsList, reply::Submit, reply::Status, reply::Latest,
                               reply::Since, reply::Missed>;

struct Reply {
  std::uint64_t rid = 0;
  Code code = Code::ok;
  std::string message;  ///< empty when ok
  ReplyBody body;
};

// ---------------------------------------------------------------------------
// Log events: the value of each `log` entry. The view is their fold.

enum class EventType : std::uint8_t { ds_create, ds_delete, submit, cancel, status };

std::string_view event_type_name(EventType t) noexcept;
std::optional<EventType> parse_event_type(std::string_view name) noexcept;

struct Event {
  EventType type = EventType::submit;
  std::string datasource;
  std::string job;                  ///< submit, cancel, status
  std::string client;               ///< submit, cancel, status
  std::optional<Any> request;       ///< submit
  std::optional<JobStatus> status;  ///< status: the new status
  std::optional<Any> response;      ///< status
  std::optional<std::string> error; ///< status
  friend bool operator==(const Event&, const Event&) = default;
};

}  // namespace ledgerq
