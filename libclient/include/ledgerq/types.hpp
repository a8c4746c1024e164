// Value types shared by Client and Driver: job statuses, status records,
// notices, request entries. All are plain values (copyable, no shared state).
//
// Time has one type everywhere: Micros, integer microseconds since the Unix
// epoch, UTC, assigned by the broker (the key of the event in its log).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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
/// once there, a job never changes again.
enum class JobStatus : std::uint8_t {
  submitted,  ///< stored, no driver has taken it yet
  accepted,   ///< a driver took it
  complete,   ///< done; the response (if any) is in the record
  cancelled,  ///< the driver honoured a cancel
  forbidden,  ///< the driver refused it
  failed,     ///< the driver gave up; the error text says why
  retrying,   ///< the driver will try again
};

/// The wire name of a status ("submitted", "accepted", ...).
LEDGERQ_CLIENT_API std::string_view to_string(JobStatus status) noexcept;
/// The status named `name`, or nullopt.
LEDGERQ_CLIENT_API std::optional<JobStatus> parse_job_status(std::string_view name) noexcept;
/// True for complete, cancelled, forbidden and failed.
LEDGERQ_CLIENT_API bool is_terminal(JobStatus status) noexcept;

/// What a client may see of one of its jobs.
struct StatusRecord {
  std::string job;                  ///< the job id (unique per datasource)
  std::string client;               ///< the client that submitted it
  JobStatus status = JobStatus::submitted;
  std::optional<Payload> response;  ///< set by the driver, usually with complete
  std::string error;                ///< set by the driver; empty when none
  Micros submitted = 0;             ///< timestamp of the submit
  Micros updated = 0;               ///< timestamp of the last change
  bool cancel_requested = false;    ///< the client asked to cancel; the driver decides
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
  Micros timestamp = 0;            ///< strictly increasing per broker
  std::uint64_t seq = 0;           ///< consecutive per datasource, from 1 (0: not known)
};

/// One datasource, as listed.
struct DatasourceInfo {
  std::string datasource;
  Micros created = 0;     ///< timestamp of its creation
  std::uint64_t seq = 0;  ///< last seq published on its request topic
};

/// The answer to a submit.
struct SubmitResult {
  std::string job;
  std::string client;
  Micros timestamp = 0;    ///< the submit's timestamp (the original one on a duplicate)
  bool duplicate = false;  ///< true: an identical submit was already stored; nothing changed
};

/// The answer to a ping.
struct ServerInfo {
  std::uint32_t version = 0;  ///< protocol version the broker speaks
  Micros now = 0;             ///< the broker's clock
};

}  // namespace ledgerq::client
