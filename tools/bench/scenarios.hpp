// The scenarios, one function per system and workload. Each starts its own
// server (a fresh temporary directory, free loopback ports), measures, and
// stops it; each is bounded by Limits (a deadline and a job count).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "bench.hpp"

namespace ledgerq::bench {

/// How to start ledgerq-broker: its path and extra flags (--sync ...).
/// `curve`: in secure mode, with keys made for the run; every peer of the
/// bench then speaks CURVE under one admin key (the role checks cost the
/// same for every role) and names its leases "bench:...".
struct LedgerqConfig {
  std::string broker;
  std::vector<std::string> flags;
  bool curve = false;
};

/// How to start beanstalkd: its path, and whether it keeps a binlog
/// (`-b DIR -f 0`: fsync after every write) or none (memory only).
struct BeanstalkConfig {
  std::string path;
  bool binlog = false;
};

/// How to start redis-server: its path, and whether it keeps an append-only
/// file (`--appendonly yes --appendfsync always`) or nothing (memory only).
/// The queue is Redis's reliable-queue pattern: LPUSH to submit, LMOVE (or
/// BLMOVE, to wait) from the queue's right to the left of the worker's own
/// processing list to take, LREM of the job's body from that list to ack;
/// every body is unique (it starts with the job's name).
struct RedisConfig {
  std::string path;
  bool aof = false;
};

// Submit throughput, jobs/s, and the server's cost per job submitted:
// `producers` threads, one connection each, with `inflight` submits
// outstanding per producer (1: one at a time). ledgerq's rows also say,
// when asked, where its broker's time went (BrokerShare).
Throughput ledgerq_submit_rate(const LedgerqConfig& c, const std::filesystem::path& dir, int producers, int inflight,
                               const Limits& limits, BrokerShare* share = nullptr);
Throughput beanstalk_submit_rate(const BeanstalkConfig& c, const std::filesystem::path& dir, int producers,
                                 int inflight, const Limits& limits);
Throughput redis_submit_rate(const RedisConfig& c, const std::filesystem::path& dir, int producers, int inflight,
                             const Limits& limits);

/// Jobs a worker of the batched cycle row takes per round trip: enough to
/// amortise a round trip (and, durable, an fsync) over many jobs, few enough
/// that 4 workers still share what 2 producers keep in flight (2 x 64).
inline constexpr int kCycleBatch = 64;

// Full cycle, jobs completed/s, and the server's cost per job completed:
// `producers` pipelined producers (64 in flight) and `workers` workers
// taking up to `batch` jobs per round trip, the acks (deletes, LREMs) of
// the previous round riding with the next lease (reserve, LMOVE). A worker
// that finds nothing waits at the server (a parked dequeue, a blocking
// reserve, a BLMOVE): no side polls.
Throughput ledgerq_cycle_rate(const LedgerqConfig& c, const std::filesystem::path& dir, int producers, int workers,
                              int batch, const Limits& limits, BrokerShare* share = nullptr);
Throughput beanstalk_cycle_rate(const BeanstalkConfig& c, const std::filesystem::path& dir, int producers,
                                int workers, int batch, const Limits& limits);
Throughput redis_cycle_rate(const RedisConfig& c, const std::filesystem::path& dir, int producers, int workers,
                            int batch, const Limits& limits);

// Submit to a waiting worker: one producer submitting at `rate` jobs/s
// (open loop: it never waits for a reply), one worker already waiting.
Latency ledgerq_latency(const LedgerqConfig& c, const std::filesystem::path& dir, double rate, const Limits& limits,
                        BrokerShare* share = nullptr);
/// The same on ledgerq without libclient: the producer and the worker are
/// raw DEALERs on threads of their own, a ZeroMQ context (an I/O thread)
/// each, as two processes would have; the producer's SUB follows its
/// status topic as a Client does. What libclient's own hops add is the
/// difference to ledgerq_latency. Plain mode only.
Latency ledgerq_latency_raw(const LedgerqConfig& c, const std::filesystem::path& dir, double rate,
                            const Limits& limits);
Latency beanstalk_latency(const BeanstalkConfig& c, const std::filesystem::path& dir, double rate,
                          const Limits& limits);
Latency redis_latency(const RedisConfig& c, const std::filesystem::path& dir, double rate, const Limits& limits);

// Soak: `jobs` jobs through the full cycle (2 producers with 64 in flight,
// 4 workers taking 64 per trip) on a broker started with `c.flags` only,
// so with its retention defaults. Prints a line `samples` times, evenly
// through the run: jobs done, rate, the map's use and size, the log's and
// the stored notices' bytes, the finished jobs still in the view, and
// what retention collected and trimmed so far. The store's use must level
// off once retention's bounds are reached.
void ledgerq_soak(const LedgerqConfig& c, const std::filesystem::path& dir, std::size_t jobs, int samples);

/// Jobs the backlog scenario's dequeue rows may take (a tenth of `cycles` one
/// per round trip, then `cycles` 100 per round trip), and 200 to spare so a
/// row never runs dry: the backlog stays >= `backlog` while they run.
inline std::size_t backlog_taken(std::size_t cycles) { return cycles + cycles / 10 + 200; }

/// The backlog rows run in this many rounds, alternating between the two
/// servers, each round taking its share of `cycles`: a slow moment of a
/// shared machine then lands on both sides of a ratio, not on one.
inline constexpr std::size_t kBacklogRounds = 3;

// Backlog: two fresh servers, one holding only backlog_taken(cycles) jobs
// (near-empty), the other the same jobs with `backlog` more waiting behind
// them. In each of kBacklogRounds rounds one worker takes, first from the
// near-empty server and then from the backlog one, a tenth of its share of
// `cycles` one per round trip, then the share 100 per round trip. Rates are
// the medians over the rounds; the ratio is the median of each round's
// backlog/near-empty. Then the backlog server is stopped and started again.
Backlog ledgerq_backlog(const LedgerqConfig& c, const std::filesystem::path& dir, std::size_t backlog,
                        std::size_t cycles, const Limits& limits);
Backlog beanstalk_backlog(const BeanstalkConfig& c, const std::filesystem::path& dir, std::size_t backlog,
                          std::size_t cycles, const Limits& limits);
Backlog redis_backlog(const RedisConfig& c, const std::filesystem::path& dir, std::size_t backlog,
                      std::size_t cycles, const Limits& limits);

/// The machine's ceilings, measured without ledgerq's code.
struct Ceilings {
  double lmdb_sync_commits = 0;      ///< commits/s, 1 record per transaction, fsync at commit
  double lmdb_batch_records = 0;     ///< records/s, 1000 records per transaction, fsync at commit
  double lmdb_batch_commits = 0;     ///< commits/s of the same
  double lmdb_nosync_commits = 0;    ///< commits/s, 1 record per transaction, MDB_NOSYNC
  double zmq_round_trips = 0;        ///< DEALER->ROUTER->DEALER, one at a time, per second
  double zmq_pipelined = 0;          ///< messages/s echoed with 64 in flight
  double append_syncs = 0;           ///< 4 KiB appended to a file then fdatasync'd, per second
  Latency append_sync;               ///< each of those
  /// 4 KiB written over a zero-filled file (as the journal's ring is) then
  /// fdatasync'd: back to back, and one every 1/rate s (the latency row's
  /// pace, so the file's mtime has moved at each). With the disk's write
  /// requests per flush, when it tells (another writer's count too).
  Latency overwrite_sync, overwrite_sync_paced;
  std::optional<double> overwrite_writes, overwrite_writes_paced;
  /// Latency floors of the latency row, its two costs measured alone:
  Latency lmdb_commit;  ///< one 1-record fsync'd LMDB commit
  Latency zmq_relay;        ///< producer DEALER -> ROUTER thread -> a waiting worker DEALER, one context
  Latency zmq_relay_apart;  ///< the same, a context (an I/O thread) each, as in three processes
  Latency tcp_relay;        ///< the same hops over plain TCP sockets: beanstalkd's path, no I/O threads
};
/// `relay` bounds the ZeroMQ relay, offered at `rate` like the latency row.
Ceilings measure_ceilings(const std::filesystem::path& dir, const Limits& limits, double rate, const Limits& relay);

}  // namespace ledgerq::bench
