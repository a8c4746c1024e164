// The scenarios on beanstalkd, spoken to directly in its text protocol:
// the same workloads as ledgerq_side.cpp, one TCP connection per thread.
#include <algorithm>
#include <atomic>
#include <future>
#include <latch>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "beanstalk.hpp"
#include "scenarios.hpp"

namespace ledgerq::bench {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<BeanstalkdProcess> start_server(const BeanstalkConfig& c, const fs::path& dir, int fsync_ms = 0) {
  return std::make_unique<BeanstalkdProcess>(c.path, c.binlog ? std::optional<fs::path>(dir) : std::nullopt,
                                             fsync_ms);
}

const std::string& body100() {
  static const std::string body(kBodyBytes, 'x');
  return body;
}

/// Puts until `deadline` or `max_jobs` with up to `inflight` unanswered; returns how many.
std::size_t put_loop(BeanstalkConn& conn, int inflight, std::size_t max_jobs, Clock::time_point deadline) {
  std::size_t sent = 0, done = 0;
  std::string out;
  while (sent < max_jobs && Clock::now() < deadline) {
    out.clear();
    while (sent - done < static_cast<std::size_t>(inflight) && sent < max_jobs) {
      BeanstalkConn::append_put(out, body100());
      ++sent;
    }
    if (!out.empty()) conn.send(out);
    conn.read_inserted();
    ++done;
  }
  for (; done < sent; ++done) conn.read_inserted();
  return done;
}

/// Deletes `ids` in one write (pipelined), then reads their replies.
void delete_all(BeanstalkConn& conn, const std::vector<std::uint64_t>& ids) {
  if (ids.empty()) return;
  std::string out;
  for (auto id : ids) BeanstalkConn::append_delete(out, id);
  conn.send(out);
  for (std::size_t i = 0; i < ids.size(); ++i) conn.read_deleted();
}

/// One round trip of a worker: the deletes of `held` (the previous round's
/// jobs), then `batch` reserves, in one write; returns the ids reserved.
/// batch 1 is one blocking `reserve-with-timeout 1`. A larger batch is
/// `batch` `reserve-with-timeout 0` (each answers at once, TIMED_OUT when
/// the tube is empty) and, when none reserved anything, one blocking
/// `reserve-with-timeout 1`: an idle worker waits at the server, as a
/// parked ledgerq dequeue does, instead of spinning on empty rounds.
std::vector<std::uint64_t> reserve_round(BeanstalkConn& conn, const std::vector<std::uint64_t>& held, int batch) {
  std::string out;
  for (auto id : held) BeanstalkConn::append_delete(out, id);  // rides with the next reserve
  for (int i = 0; i < batch; ++i) BeanstalkConn::append_reserve(out, batch == 1 ? 1 : 0);
  conn.send(out);
  for (std::size_t i = 0; i < held.size(); ++i) conn.read_deleted();
  std::vector<std::uint64_t> got;
  for (int i = 0; i < batch; ++i)
    if (auto j = conn.read_reserved()) got.push_back(j->id);
  if (got.empty() && batch > 1)
    if (auto j = conn.reserve(1)) got.push_back(j->id);
  return got;
}

/// A beanstalkd holding `total` waiting jobs, running with -f 0 when `c`
/// keeps a binlog, and the fill rate. With -f 0 every put is fsynced on its
/// own: a million would take most of an hour. So puts go with -f 0 for
/// `measure_s` seconds only (the rate returned; 0: not measured), the rest
/// with fsync once a second into the same binlog, and the server is then
/// restarted with -f 0 (replaying that binlog).
std::pair<std::unique_ptr<BeanstalkdProcess>, double> filled_server(const BeanstalkConfig& c, const fs::path& dir,
                                                                    std::size_t total, double measure_s) {
  auto fill = [&](BeanstalkConn& conn, std::size_t count, Clock::time_point deadline) {
    std::size_t done = 0;
    std::string out;
    while (done < count && Clock::now() < deadline) {
      out.clear();
      const std::size_t n = std::min<std::size_t>(1000, count - done);
      for (std::size_t i = 0; i < n; ++i) BeanstalkConn::append_put(out, body100());
      conn.send(out);
      for (std::size_t i = 0; i < n; ++i) conn.read_inserted();
      done += n;
    }
    return done;
  };
  auto server = start_server(c, dir);
  std::size_t filled = 0;
  double rate = 0;
  {
    BeanstalkConn conn(server->port());
    const auto t0 = Clock::now();
    filled = fill(conn, total, c.binlog ? t0 + std::chrono::duration_cast<Clock::duration>(
                                                   std::chrono::duration<double>(measure_s))
                                        : Clock::time_point::max());
    rate = static_cast<double>(filled) / seconds_since(t0);
  }
  if (filled < total) {
    server->terminate();
    server = start_server(c, dir, 1000);
    BeanstalkConn conn(server->port());
    fill(conn, total - filled, Clock::time_point::max());
    server->terminate();
    server = start_server(c, dir);
  }
  return {std::move(server), rate};
}

/// The backlog scenario's dequeue rows on one connection, as in
/// ledgerq_side.cpp: a tenth of `cycles` one per round trip, then `cycles`
/// 100 per round trip; dequeue(N) is N `reserve-with-timeout 0` and the
/// previous round's deletes in one write. Throws if the tube runs dry.
DequeueRates take(BeanstalkdProcess& server, std::size_t cycles, const Limits& limits) {
  BeanstalkConn conn(server.port());
  std::string out;
  std::vector<std::uint64_t> held;
  auto cycle = [&](std::size_t limit, std::size_t jobs) {
    std::size_t done = 0;
    const auto t0 = Clock::now();
    const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(limits.seconds));
    while (done < jobs && Clock::now() < deadline) {
      out.clear();
      for (auto id : held) BeanstalkConn::append_delete(out, id);  // the previous round's acks
      for (std::size_t i = 0; i < limit; ++i) BeanstalkConn::append_reserve(out, 0);
      conn.send(out);
      for (std::size_t i = 0; i < held.size(); ++i) conn.read_deleted();
      held.clear();
      for (std::size_t i = 0; i < limit; ++i)
        if (auto j = conn.read_reserved()) held.push_back(j->id);
      if (held.empty()) throw std::runtime_error("the beanstalkd backlog ran dry");
      done += held.size();
    }
    delete_all(conn, held);  // as ledgerq's flush_acks: inside the timing
    held.clear();
    return static_cast<double>(done) / seconds_since(t0);
  };
  DequeueRates r;
  r.one = cycle(1, cycles / 10);
  r.hundred = cycle(100, cycles);
  return r;
}

}  // namespace

Throughput beanstalk_submit_rate(const BeanstalkConfig& c, const fs::path& dir, int producers, int inflight,
                                 const Limits& limits) {
  auto server = start_server(c, dir);
  const CostMeter meter(server->pid(), dir);
  std::atomic<std::size_t> total{0};
  const double elapsed = run_threads(producers, limits.seconds, [&](int, std::latch& ready, auto start, auto window) {
    BeanstalkConn conn(server->port());
    ready.count_down();
    const auto begin = start.get();
    total += put_loop(conn, inflight, limits.max_jobs / static_cast<std::size_t>(producers), begin + window);
  });
  return {static_cast<double>(total) / elapsed, meter.per_job(total)};
}

Throughput beanstalk_cycle_rate(const BeanstalkConfig& c, const fs::path& dir, int producers, int workers,
                                int batch, const Limits& limits) {
  auto server = start_server(c, dir);
  const CostMeter meter(server->pid(), dir);
  std::atomic<std::size_t> completed{0};
  run_threads(producers + workers, limits.seconds, [&](int i, std::latch& ready, auto start, auto window) {
    BeanstalkConn conn(server->port());
    ready.count_down();
    const auto deadline = start.get() + window;
    if (i < producers) {
      put_loop(conn, 64, limits.max_jobs / static_cast<std::size_t>(producers), deadline);
      return;
    }
    std::vector<std::uint64_t> held;  // reserved (and counted): deleted with the next round
    while (Clock::now() < deadline) {
      held = reserve_round(conn, held, batch);
      if (Clock::now() >= deadline) break;  // reserved after the end: not counted
      completed += held.size();
    }
    delete_all(conn, held);
  });
  return {static_cast<double>(completed) / limits.seconds, meter.per_job(completed)};
}

Latency beanstalk_latency(const BeanstalkConfig& c, const fs::path& dir, double rate, const Limits& limits) {
  auto server = start_server(c, dir);
  const auto n = static_cast<std::size_t>(rate * limits.seconds);
  std::vector<double> samples;
  samples.reserve(n);
  std::atomic<std::size_t> received{0};
  std::atomic<bool> stop{false}, failed{false};
  std::exception_ptr failure;
  BeanstalkConn worker(server->port());
  std::thread consumer([&] {
    try {
      std::optional<std::uint64_t> previous;
      std::string out;
      while (!stop && samples.size() < n) {
        out.clear();
        if (previous) BeanstalkConn::append_delete(out, *previous);
        BeanstalkConn::append_reserve(out, 1);  // waits at the server until a job comes
        worker.send(out);
        if (previous) worker.read_deleted();
        previous.reset();
        auto job = worker.read_reserved();
        if (!job) continue;
        samples.push_back(static_cast<double>(now_ns() - stamp_of(job->body)) / 1e6);
        received = samples.size();
        previous = job->id;
      }
      if (previous) worker.remove(*previous);
    } catch (...) {
      failure = std::current_exception();
      failed = true;
    }
  });
  BeanstalkConn producer(server->port());
  std::this_thread::sleep_for(100ms);  // the worker is waiting
  const auto t0 = Clock::now();
  std::size_t answered = 0;
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    const auto at = t0 + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(static_cast<double>(i) / rate));
    // Open loop: read the INSERTED replies while waiting for the next send time.
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(at - Clock::now()).count();
      if (answered < i && producer.readable(static_cast<int>(std::max<long>(0, left)))) {
        producer.read_inserted();
        ++answered;
        continue;
      }
      if (Clock::now() >= at) break;
      if (answered == i) std::this_thread::sleep_until(at);
    }
    out.clear();
    BeanstalkConn::append_put(out, stamped_body(now_ns()));
    producer.send(out);
  }
  for (; answered < n; ++answered) producer.read_inserted();
  const auto deadline = Clock::now() + 5s;
  while (Clock::now() < deadline && received < n && !failed) std::this_thread::sleep_for(5ms);
  stop = true;
  consumer.join();
  if (failure) std::rethrow_exception(failure);
  return percentiles(std::move(samples));
}

Backlog beanstalk_backlog(const BeanstalkConfig& c, const fs::path& dir, std::size_t backlog, std::size_t cycles,
                          const Limits& limits) {
  Backlog r;
  // The rate the backlog rows are held to: the same rows with nothing
  // waiting behind the jobs they take (its fill is not measured).
  fs::path near_empty_dir = dir;
  near_empty_dir += "-near-empty";
  auto near = filled_server(c, near_empty_dir, backlog_taken(cycles), 0).first;
  auto [server, fill_rate] = filled_server(c, dir, backlog + backlog_taken(cycles), limits.seconds);
  r.fill_rate = fill_rate;
  measure_rounds([&](std::size_t n) { return take(*near, n, limits); },
                 [&](std::size_t n) { return take(*server, n, limits); }, cycles / kBacklogRounds, kBacklogRounds, r);
  near.reset();
  r.memory = memory_of(server->pid());
  server->terminate();
  if (c.binlog) {
    const auto t0 = Clock::now();
    server = start_server(c, dir);  // ready once it answers: after the binlog replay
    r.restart_s = seconds_since(t0);
  }
  return r;
}

}  // namespace ledgerq::bench
