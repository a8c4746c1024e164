// The broker's transport: the three sockets and the loop that turns what
// arrives on the ROUTER into one transaction and one journal record per
// turn (group commit, store.hpp), then replies and publishes, only once the
// record is flushed (--sync full).
//
// transport/ is the broker's only layer that speaks ZeroMQ (with main.cpp,
// which maps its errors to exit statuses): the loop here, and its pieces in
// files of their own (pending.hpp, parking.cpp, publisher.cpp, security.cpp).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "codec/messages.hpp"
#include "domain/retention.hpp"
#include "security.hpp"
#include "storage/lmdb_env.hpp"

namespace ledgerq::transport {

struct ServerOptions {
  std::string router = "tcp://127.0.0.1:5555";        ///< request/reply
  std::string status_pub = "tcp://127.0.0.1:5556";    ///< per-client status topics
  std::string requests_pub = "tcp://127.0.0.1:5557";  ///< per-datasource request topics
  std::size_t batch_max = 1024;  ///< requests applied in one transaction at most
  std::uint64_t journal_bytes = std::uint64_t{64} << 20;  ///< the journal's ring (store.hpp)
  int pub_hwm = 100000;          ///< messages queued per subscriber before PUB drops
  domain::Retention retention;   ///< job GC and log trimming
  std::size_t tick_budget = 1000;  ///< timer work items per kind per turn
  std::chrono::milliseconds tick_every{1000};  ///< GC/trim cadence (leases run on their deadlines)
  /// CURVE and principals (PROTOCOL.md §14); absent: plain mode, every peer
  /// may do anything, for development on this machine only.
  std::optional<SecurityOptions> security;
  /// Plain mode on an endpoint other machines can reach: refused unless set.
  bool insecure = false;
};

/// Wall-clock source, injected so tests can steer time. Microseconds since
/// the Unix epoch.
using Clock = std::function<Micros()>;
Micros system_now();

/// Counters the loop keeps; read them only from the loop's thread (or after
/// run() returns).
struct ServerStats {
  std::uint64_t batches = 0;
  std::uint64_t requests = 0;
  std::uint64_t transactions = 0;   ///< turns committed (each a transaction nested in the open one)
  std::uint64_t apply_us = 0;       ///< in turns before their commit (execute, timers, flush)
  std::uint64_t commit_us = 0;      ///< in their commits and journal appends (LMDB checkpoints and flushes not counted)
  std::uint64_t bad_requests = 0;   ///< answered with 4xx before reaching the domain
  std::uint64_t failed_batches = 0; ///< storage failures that aborted a transaction
  std::uint64_t parked = 0;         ///< dequeues that waited for a job
  domain::TickStats timers;         ///< leases expired, jobs collected, log entries trimmed
};

class Server {
 public:
  /// Binds the three sockets (throws zmq::error_t when an endpoint is
  /// taken; std::invalid_argument for plain mode on an endpoint other
  /// machines can reach without `insecure`; keys::KeyError for a bad
  /// principals file). `env` must outlive the server.
  Server(storage::Env& env, ServerOptions opts, Clock clock = system_now);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// The endpoints actually bound (resolves "tcp://127.0.0.1:*").
  std::string router_endpoint() const;
  std::string status_endpoint() const;
  std::string requests_endpoint() const;

  /// Runs until `stop` becomes true (checked at least every 200 ms and
  /// after each turn). When `reload` is given and becomes true, the loop
  /// clears it and rereads the principals file (SIGHUP). Storage
  /// corruption (MDB_PANIC) ends the process.
  void run(const std::atomic<bool>& stop, std::atomic<bool>* reload = nullptr);

  const ServerStats& stats() const { return stats_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  ServerStats stats_;
};

}  // namespace ledgerq::transport
