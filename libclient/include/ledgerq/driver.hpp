// ledgerq::client::Driver: the handle of a driver (or worker, or admin tool)
// on a broker. It manages datasources, follows the stream of requests of one
// or more datasources, and reports the outcome of jobs.
//
// Threads. A Driver owns one background I/O thread with its ZeroMQ sockets (a
// DEALER to the broker's ROUTER, a SUB to its requests PUB). Every public
// member function is thread-safe. Callbacks (the follow() callback, on_error)
// run ON THE I/O THREAD, one at a time: keep them short and never call a
// blocking member of the same Driver from them (it throws std::logic_error);
// the *_async forms may be called there.
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
  /// Called on the I/O thread when background work fails: a catch-up `since`
  /// that failed (it is retried), a callback that threw. May be empty.
  std::function<void(const Error&)> on_error;
  /// How often a followed datasource is checked for entries lost at the tail
  /// of its topic. Zero turns the periodic check off.
  std::chrono::milliseconds resync_interval{1'000};
};

/// Called on the I/O thread for each entry of a followed datasource.
using EntryCallback = std::function<void(const RequestEntry&)>;

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

  /// Creates a datasource; false if it already existed (not an error).
  /// Throws Error(bad_request) for a bad name (1..64 of [A-Za-z0-9_.-]).
  bool create_datasource(std::string_view datasource);
  /// Deletes a datasource; false if there was none.
  bool delete_datasource(std::string_view datasource);
  /// Every datasource, in name order.
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

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;  ///< null only in a moved-from object (destroy or assign it only)
};

}  // namespace ledgerq::client
