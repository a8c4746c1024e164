// ledgerq::client::Driver: the handle of a driver (or admin tool) on a
// broker. It manages datasources (with their work-queue options), follows
// the stream of requests of one or more datasources, reports the outcome of
// jobs, and holds the operator's tools over jobs: lookup, count, scan,
// retry of failed jobs, deletion. (Workers that lease jobs use Worker,
// worker.hpp.)
//
// Why the admin commands live here and not in an Admin class: the Driver is
// already the handle that creates, configures and lists datasources, and
// an admin tool needs those too; a second class would duplicate them and
// another I/O thread. The Driver's SUB socket costs nothing until follow().
//
// Threads. A Driver owns one background I/O thread with its ZeroMQ sockets (a
// DEALER to the broker's ROUTER, a SUB to its requests PUB). Every public
// member function is thread-safe. Callbacks (the follow() callback, on_error)
// run ON THE I/O THREAD, one at a time: keep them short and never call a
// blocking member of the same Driver from them (it throws std::logic_error);
// the *_async forms may be called there. Like the Client's, the I/O thread
// blocks asynchronous signals.
//
// Following. follow() subscribes to the datasource's request topic, then
// catches up with `since` from the given timestamp, and from then on
// delivers every entry exactly once, in timestamp (and seq) order: live
// entries are deduplicated by timestamp, and a gap in seq, or a periodic
// check, fetches what the PUB socket lost with `since`.
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

/// How to reach the broker and how the Driver behaves. Plain data.
struct DriverOptions {
  std::string router{kDefaultRouter};             ///< the broker's ROUTER endpoint
  std::string requests_pub{kDefaultRequestsPub};  ///< the broker's requests PUB endpoint
  /// How long a command waits for its reply before failing with Code::timeout.
  std::chrono::milliseconds timeout = kDefaultTimeout;
  /// CURVE keys for a broker in secure mode; nullopt: plain mode
  /// (credentials.hpp; Credentials::from_env() reads the tools' variables).
  std::optional<Credentials> credentials;
  /// Called on the I/O thread when background work fails: a catch-up `since`
  /// that failed (it is retried), a callback that threw. May be empty.
  std::function<void(const Error&)> on_error;
  /// How often a followed datasource is checked for entries lost at the tail
  /// of its topic. Zero turns the periodic check off.
  std::chrono::milliseconds resync_interval{1'000};
};

/// Called on the I/O thread for each entry of a followed datasource.
using EntryCallback = std::function<void(const RequestEntry&)>;

/// Which jobs a scan or delete_jobs visits; a field left empty matches all.
/// The broker walks the index of the most selective field set (key, then
/// client, then type, then status) and checks the others on each job.
struct JobFilter {
  std::optional<JobStatus> status;
  std::string type;
  std::string key;
  std::string client;
  std::optional<std::uint8_t> priority;  ///< 1..3
};

/// One page of a scan.
struct ScanPage {
  std::vector<JobInfo> jobs;  ///< may be empty while continuation is not: the broker
                              ///< reads a bounded number of index entries per page
  std::string continuation;   ///< pass back for the next page; "" at the end
};

/// One page of a job's history.
struct HistoryPage {
  std::vector<JobEvent> events;  ///< oldest first; may be empty while continuation is not: the
                                 ///< broker reads a bounded number of log entries per page
  std::string continuation;      ///< pass back for the next page; "" at the end
};

/// Which submitted/retrying jobs count() counts by eligibility.
enum class Due : std::uint8_t {
  any,     ///< all of them (and the only choice for other statuses)
  now,     ///< eligible now (run_after passed)
  future,  ///< not yet eligible
};

/// The answer to count().
struct CountResult {
  std::uint64_t count = 0;
  bool capped = false;  ///< a Due::now/future count stopped at 100 000
};

/// What retry_failed() does to failed jobs.
struct RetryOptions {
  std::uint32_t attempts = 1;            ///< attempts granted on top of those made (>= 1)
  std::optional<std::uint8_t> priority;  ///< only failed jobs of this priority (1..3)
  std::optional<Micros> run_after;       ///< not eligible before this time
  std::optional<std::uint32_t> limit;    ///< at most this many (broker default 1000, max 10000)
  /// Only these jobs (1..1000 ids), those of them that are failed; unknown
  /// ids are skipped. nullopt: every failed job, oldest first. An empty
  /// list is sent as it is and refused (bad_request), never widened to all.
  std::optional<std::vector<std::string>> jobs;
};

/// A driver's connection to a broker. Move-only; destroying it stops the I/O
/// thread and fails commands still waiting with Code::closed.
class LEDGERQ_CLIENT_API Driver {
 public:
  /// Connects (lazily: no broker needs to be up yet). Throws Error(transport)
  /// for an endpoint ZeroMQ refuses.
  explicit Driver(DriverOptions options = {});
  ~Driver();
  Driver(Driver&&) noexcept;
  Driver& operator=(Driver&&) noexcept;
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  /// Asks the broker for its protocol version and clock.
  ServerInfo ping();

  /// Creates a datasource; false if it already existed (not an error; its
  /// options are then left as they were: use configure_datasource).
  /// Throws Error(bad_request) for a bad name (1..64 of [A-Za-z0-9_.-]).
  bool create_datasource(std::string_view datasource);
  bool create_datasource(std::string_view datasource, const DatasourceOptions& options);
  /// Replaces a datasource's options (all of them: read them first with
  /// list_datasources to change one); returns them as now in force.
  /// Throws Error(not_found) for an unknown datasource.
  DatasourceOptions configure_datasource(std::string_view datasource, const DatasourceOptions& options);
  /// Deletes a datasource; false if there was none.
  bool delete_datasource(std::string_view datasource);
  /// Every datasource, in name order, with its options and job counts.
  std::vector<DatasourceInfo> list_datasources();

  /// The newest entry of a datasource (nullopt: none yet).
  /// Throws Error(not_found) for an unknown datasource.
  std::optional<RequestEntry> latest(std::string_view datasource);

  /// Sets a job's status (and optionally its response and error text);
  /// returns the record after the change. Throws Error(conflict) for a
  /// transition the rules forbid (e.g. out of a terminal status),
  /// Error(not_found) for an unknown job.
  StatusRecord update(std::string_view datasource, std::string_view job, JobStatus status,
                      std::optional<Payload> response = std::nullopt,
                      std::optional<std::string> error = std::nullopt);
  [[nodiscard]] std::future<StatusRecord> update_async(std::string_view datasource, std::string_view job,
                                                       JobStatus status,
                                                       std::optional<Payload> response = std::nullopt,
                                                       std::optional<std::string> error = std::nullopt);

  /// Starts following `datasource`: `on_entry` gets every entry whose
  /// timestamp is >= `from` (0: all retained history; pass the last handled
  /// timestamp + 1 to resume), then every new one, each exactly once, in
  /// order. Blocks until the first catch-up page is answered, so an unknown
  /// datasource throws Error(not_found) here; entries may reach on_entry
  /// before this returns. Throws std::invalid_argument if the datasource is
  /// already followed.
  void follow(std::string_view datasource, Micros from, EntryCallback on_entry);
  /// Stops following; after it returns on_entry is not called again for this
  /// datasource (unless unfollow was called from that very callback, which
  /// is allowed). No-op for a datasource not followed.
  void unfollow(std::string_view datasource);

  /// The timestamp of the last entry delivered for `datasource` (0: none).
  [[nodiscard]] Micros last_timestamp(std::string_view datasource) const;

  // --- operator's tools ------------------------------------------------------
  // Each throws Error(not_found) for an unknown datasource and
  // Error(bad_request) for arguments the broker refuses.

  /// The records of 1..1000 jobs (any client's), in the order asked; unknown
  /// ids are left out. With `bodies`, each JobInfo carries its request.
  std::vector<JobInfo> lookup(std::string_view datasource, const std::vector<std::string>& jobs,
                              bool bodies = false);
  /// One job's record, or nullopt when there is no such job.
  std::optional<JobInfo> lookup(std::string_view datasource, std::string_view job, bool bodies = false);

  /// How many jobs are in `status` (of one priority, if given). `due` splits
  /// submitted and retrying jobs by eligibility (bad_request for others).
  CountResult count(std::string_view datasource, JobStatus status, std::optional<std::uint8_t> priority = std::nullopt,
                    Due due = Due::any);

  /// One page of the jobs matching `filter` (limit: 1..1000, broker default
  /// 100). Start with continuation "", pass back each page's continuation;
  /// a continuation from another filter is refused (bad_request). Pages
  /// come in index order; jobs changed between pages may be seen twice or
  /// not at all (no snapshot).
  ScanPage scan(std::string_view datasource, const JobFilter& filter = {},
                std::optional<std::uint32_t> limit = std::nullopt, std::string_view continuation = {});
  /// Walks every page of a scan, calling `visit` for each job (on the
  /// caller's thread) until it returns false or the scan ends. Returns the
  /// number of jobs visited.
  std::uint64_t scan_all(std::string_view datasource, const JobFilter& filter,
                         const std::function<bool(const JobInfo&)>& visit);

  /// One page of a job's history: the events the broker logged for it
  /// (submit, leases, expiries, acks, checkpoints, retries, ...), oldest
  /// first, each with the time it was recorded. Start with continuation "",
  /// pass back each page's continuation; one from another job is refused
  /// (bad_request). not_found when the job is not in the view (never
  /// submitted, deleted, or collected); log retention may have trimmed its
  /// first events.
  HistoryPage history(std::string_view datasource, std::string_view job, std::string_view continuation = {});
  /// Every page of a job's history, gathered.
  std::vector<JobEvent> history_all(std::string_view datasource, std::string_view job);

  /// Gives failed jobs more attempts: they become retrying, eligible at
  /// run_after (or at once); options.jobs picks them by id. Returns how
  /// many were retried.
  std::uint64_t retry_failed(std::string_view datasource, const RetryOptions& options = {});

  /// Deletes jobs matching `filter` (its status is required: bad_request
  /// without one), at most `limit` (broker default 1000, max 10000). Deleted
  /// jobs are forgotten: their ids may be submitted again. Returns how many
  /// were deleted.
  std::uint64_t delete_jobs(std::string_view datasource, const JobFilter& filter,
                            std::optional<std::uint32_t> limit = std::nullopt);
  /// Deletes the jobs named by `jobs` (1..1000 ids, else bad_request),
  /// whatever their status (a leased one too: its worker's ack gets
  /// not_found); unknown ids are skipped. Returns how many were deleted.
  std::uint64_t delete_jobs(std::string_view datasource, const std::vector<std::string>& jobs);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;  ///< null only in a moved-from object (destroy or assign it only)
};

}  // namespace ledgerq::client
