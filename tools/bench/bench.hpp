// ledgerq-bench's shared pieces: the workload settings, the results each
// scenario returns, what a server spends per job, and the servers the bench
// starts (ledgerq-broker through tools::BrokerProcess, beanstalkd through
// BeanstalkdProcess, redis-server through RedisProcess in redis.hpp).
// Every scenario is bounded twice: by a job count and by a deadline, so a
// slow machine shortens a run instead of stretching it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <future>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "broker_process.hpp"  // tools/common: ChildProcess

namespace ledgerq::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// Every job body is this many bytes (the workload).
inline constexpr std::size_t kBodyBytes = 100;

/// How long and how much each measurement may run.
struct Limits {
  double seconds = 2.0;           ///< wall-clock bound of one measurement
  std::size_t max_jobs = 200'000; ///< job-count bound of one measurement
};

/// Resident memory of a process: now, peak (VmHWM) and the part of it that
/// is pages of an LMDB data.mdb mapping (0 for beanstalkd).
struct Memory {
  double rss_mib = 0, peak_mib = 0, map_mib = 0;
};
Memory memory_of(pid_t pid);

/// ledgerq's broker over one measurement, from its stats: the shares of the
/// wall time it spent applying requests in write transactions and
/// committing them (the rest it waited for requests or sent replies),
/// requests per transaction (group commit), and the mean time, in
/// microseconds, one transaction spent applying and committing.
struct BrokerShare {
  double apply = 0, commit = 0, requests_per_txn = 0;
  double apply_us_per_txn = 0, commit_us_per_txn = 0;
};

/// What a server spent per job over one measurement.
struct ServerCost {
  double cpu_us = 0;              ///< its CPU time (user + system), microseconds per job
  std::optional<double> flushes;  ///< flushes its data's disk completed, per job; none: the disk reports none
};

/// A throughput row's figures for one system.
struct Throughput {
  double rate = 0;  ///< jobs/s
  ServerCost cost;
};

/// Write requests completed by the disk holding `dir` (field 5 of its
/// /sys/dev/block stat: every writer's); nullopt when it is no block device.
std::optional<std::uint64_t> disk_writes(const std::filesystem::path& dir);

/// Measures a server's ServerCost from the moment it is made: the CPU time
/// of process `pid` (/proc/PID/stat: utime + stime, with cutime + cstime,
/// the children it reaped, such as Redis's AOF rewrite; in clock ticks,
/// 10 ms on Linux) and the flush requests completed by the disk holding
/// `dir` (/sys/dev/block/MAJ:MIN/stat, the whole disk of a partition;
/// kernels >= 5.5). The flushes are the disk's, not the process's: another
/// writer's fsyncs on that disk during the measurement count too.
class CostMeter {
 public:
  CostMeter(pid_t pid, const std::filesystem::path& dir);
  /// Per job of `jobs`, since construction (none when jobs is 0).
  ServerCost per_job(std::size_t jobs) const;
  /// The disk whose flushes are counted ("vda"), or why none are.
  static std::string disk_of(const std::filesystem::path& dir);

 private:
  pid_t pid_;
  std::filesystem::path disk_stat_;  ///< empty: no disk, or one that has completed no flush since boot
  double cpu_s_ = 0;
  std::uint64_t flushes_ = 0;
};

/// p50/p99/p99.9 of a sample set, in milliseconds, and how many samples.
struct Latency {
  double p50_ms = 0, p99_ms = 0, p999_ms = 0;
  std::size_t samples = 0;
};
Latency percentiles(std::vector<double> ms);

/// The backlog scenario's two dequeue rows, jobs/s, leased and acked.
struct DequeueRates {
  double one = 0;      ///< one job per round trip
  double hundred = 0;  ///< 100 jobs per round trip
};

/// The backlog scenario's figures for one system.
struct Backlog {
  double fill_rate = 0;       ///< jobs/s while filling the backlog (see the table's note)
  DequeueRates with_backlog;  ///< with the backlog waiting behind the jobs taken (median of the rounds)
  DequeueRates near_empty;    ///< on a fresh server holding only the jobs taken (median of the rounds)
  DequeueRates ratio;         ///< median of the rounds' with_backlog / near_empty
  Memory memory;              ///< after the dequeues with the backlog
  std::optional<double> restart_s;  ///< stop to first answer with the backlog; none: the jobs are lost
};

/// The backlog scenario's dequeue rows: `rounds` rounds, each taking `jobs`
/// from both servers, the near-empty one first in even rounds and the
/// backlog one first in odd rounds; fills `out` with the medians of each
/// and of the rounds' ratios.
void measure_rounds(const std::function<DequeueRates(std::size_t jobs)>& near_empty,
                    const std::function<DequeueRates(std::size_t jobs)>& with_backlog, std::size_t jobs,
                    std::size_t rounds, Backlog& out);

/// A body of kBodyBytes that starts with `stamp` (nanoseconds on Clock), so
/// a worker in the same process can tell how long the job took to reach it.
std::string stamped_body(std::int64_t stamp);
std::int64_t stamp_of(std::string_view body);
std::int64_t now_ns();

/// A TCP socket bound to a free port of 127.0.0.1 (`port` says which);
/// throws when none can be had.
int bind_loopback(int& port);
/// A free TCP port on 127.0.0.1 (bound to port 0, then released).
int free_port();
/// A TCP connection to 127.0.0.1:port with TCP_NODELAY; -1 if refused.
int connect_loopback(int port);
/// Writes all of `bytes`; a closed peer is an error naming `what`, not SIGPIPE.
void send_all(int fd, std::string_view bytes, const char* what);

/// beanstalkd started by the bench: `beanstalkd -l 127.0.0.1 -p PORT
/// [-b DIR -f FSYNC_MS]`, ready once it answers a command (which, after a
/// restart with a binlog, is once the binlog has been replayed).
class BeanstalkdProcess {
 public:
  BeanstalkdProcess(const std::string& path, std::optional<std::filesystem::path> binlog, int fsync_ms);
  BeanstalkdProcess(const BeanstalkdProcess&) = delete;
  BeanstalkdProcess& operator=(const BeanstalkdProcess&) = delete;
  void terminate() { process_->terminate(); }  ///< SIGTERM and reap
  pid_t pid() const { return process_->pid(); }
  int port() const { return port_; }

 private:
  std::unique_ptr<tools::ChildProcess> process_;
  int port_ = 0;
};

/// Where program `name` is (PATH, then /usr/bin, /usr/local/bin); empty if absent.
std::string find_program(const std::string& name);

/// Runs `fn(index, ready, start, window)` on n threads, starting the clock
/// once all of them counted `ready` down; returns the seconds until all ended.
template <class Fn>
inline double run_threads(int n, double seconds, Fn fn) {
  std::latch ready(n + 1);
  std::promise<Clock::time_point> go;
  std::shared_future<Clock::time_point> start = go.get_future().share();
  std::exception_ptr failure;
  std::mutex failure_mu;
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      try {
        fn(i, ready, start, std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)));
      } catch (...) {
        std::lock_guard lock(failure_mu);
        failure = std::current_exception();
      }
    });
  }
  ready.arrive_and_wait();
  const auto t0 = Clock::now();
  go.set_value(t0);
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
  return seconds_since(t0);
}

}  // namespace ledgerq::bench
