// The scenarios on Redis, as a reliable queue (scenarios.hpp, RedisConfig):
// the same workloads as ledgerq_side.cpp and beanstalk_side.cpp, one
// hiredis connection per thread, pipelined as the beanstalkd side is.
#include <algorithm>
#include <atomic>
#include <latch>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "redis.hpp"
#include "scenarios.hpp"

namespace ledgerq::bench {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view kQueue = "bench:queue";
/// How long a waiting worker's BLMOVE blocks at the server, in seconds (as
/// ledgerq's dequeue waits 200 ms); it answers as soon as a job comes.
constexpr std::string_view kWaitS = "0.2";

/// Worker `n`'s processing list: the jobs it holds, until it acks them.
std::string processing_of(int n) { return "bench:processing:" + std::to_string(n); }

/// A body of kBodyBytes that starts with `name`: unique per job, as the
/// ack (LREM by value) needs.
std::string body_named(const std::string& name) {
  std::string body = name;
  body.resize(kBodyBytes, 'x');
  return body;
}

/// Acks of the jobs `held`, queued: LREM from the tail (-1), where the
/// oldest of a processing list are, so an ack in the order taken finds its
/// job at once. (The bodies are unique: 1 or -1 removes the same element.)
void append_acks(RedisConn& conn, const std::string& processing, const std::vector<std::string>& held) {
  for (const auto& body : held) conn.append({"LREM", processing, "-1", body});
}

/// Reads the replies of append_acks: each must have removed its job.
void read_acks(RedisConn& conn, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (conn.read_integer() != 1) throw std::runtime_error("redis: an ack found no job in the processing list");
}

void ack_all(RedisConn& conn, const std::string& processing, std::vector<std::string>& held) {
  if (held.empty()) return;
  append_acks(conn, processing, held);
  conn.send();
  read_acks(conn, held.size());
  held.clear();
}

/// LPUSHes until `deadline` or `max_jobs` with up to `inflight` unanswered,
/// bodies named prefix + count; returns how many.
std::size_t push_loop(RedisConn& conn, const std::string& prefix, int inflight, std::size_t max_jobs,
                      Clock::time_point deadline) {
  std::size_t sent = 0, done = 0;
  while (sent < max_jobs && Clock::now() < deadline) {
    while (sent - done < static_cast<std::size_t>(inflight) && sent < max_jobs)
      conn.append({"LPUSH", kQueue, body_named(prefix + std::to_string(sent++))});
    conn.send();
    conn.read_integer();
    ++done;
  }
  for (; done < sent; ++done) conn.read_integer();
  return done;
}

/// One round trip of a worker: the acks of `held` (the previous round's
/// jobs), then `batch` takes, in one write; returns the bodies taken.
/// batch 1 is one BLMOVE, waiting at the server. A larger batch is `batch`
/// LMOVE (each answers at once, nil when the queue is empty) and, when none
/// took anything, one BLMOVE: an idle worker waits at the server, as a
/// parked ledgerq dequeue does, instead of spinning on empty rounds.
std::vector<std::string> take_round(RedisConn& conn, const std::string& processing,
                                    const std::vector<std::string>& held, int batch) {
  append_acks(conn, processing, held);  // ride with the next take
  for (int i = 0; i < batch; ++i) {
    if (batch == 1)
      conn.append({"BLMOVE", kQueue, processing, "RIGHT", "LEFT", kWaitS});
    else
      conn.append({"LMOVE", kQueue, processing, "RIGHT", "LEFT"});
  }
  conn.send();
  read_acks(conn, held.size());
  std::vector<std::string> got;
  for (int i = 0; i < batch; ++i)
    if (auto body = conn.read_bulk()) got.push_back(std::move(*body));
  if (got.empty() && batch > 1) {
    conn.append({"BLMOVE", kQueue, processing, "RIGHT", "LEFT", kWaitS});
    conn.send();
    if (auto body = conn.read_bulk()) got.push_back(std::move(*body));
  }
  return got;
}

/// Fills a server with `total` jobs named prefix + count: one LPUSH of 1000
/// bodies per command (Redis's batch submit), 8 commands in flight, as
/// ledgerq's fill sends submit_batch. Returns jobs/s.
double fill(RedisProcess& server, std::size_t total, const std::string& prefix) {
  RedisConn conn(server.port());
  const auto t0 = Clock::now();
  std::size_t next = 0, inflight = 0;
  std::vector<std::string> bodies;
  while (next < total || inflight > 0) {
    while (inflight < 8 && next < total) {
      bodies.clear();
      for (; bodies.size() < 1000 && next < total; ++next) bodies.push_back(body_named(prefix + std::to_string(next)));
      std::vector<std::string_view> args = {"LPUSH", kQueue};
      args.insert(args.end(), bodies.begin(), bodies.end());
      conn.append(args);
      ++inflight;
    }
    conn.send();
    conn.read_integer();
    --inflight;
  }
  return static_cast<double>(total) / seconds_since(t0);
}

/// The backlog scenario's dequeue rows on one connection, as in
/// ledgerq_side.cpp: a tenth of `cycles` one per round trip, then `cycles`
/// 100 per round trip; dequeue(N) is N LMOVE and the previous round's
/// LREMs in one write. Throws if the queue runs dry.
DequeueRates take(RedisProcess& server, std::size_t cycles, const Limits& limits) {
  RedisConn conn(server.port());
  const std::string processing = processing_of(0);
  std::vector<std::string> held;
  auto cycle = [&](std::size_t limit, std::size_t jobs) {
    std::size_t done = 0;
    const auto t0 = Clock::now();
    const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(limits.seconds));
    while (done < jobs && Clock::now() < deadline) {
      append_acks(conn, processing, held);  // the previous round's acks
      for (std::size_t i = 0; i < limit; ++i) conn.append({"LMOVE", kQueue, processing, "RIGHT", "LEFT"});
      conn.send();
      read_acks(conn, held.size());
      held.clear();
      for (std::size_t i = 0; i < limit; ++i)
        if (auto body = conn.read_bulk()) held.push_back(std::move(*body));
      if (held.empty()) throw std::runtime_error("the Redis backlog ran dry");
      done += held.size();
    }
    ack_all(conn, processing, held);  // as ledgerq's flush_acks: inside the timing
    return static_cast<double>(done) / seconds_since(t0);
  };
  DequeueRates r;
  r.one = cycle(1, cycles / 10);
  r.hundred = cycle(100, cycles);
  return r;
}

}  // namespace

Throughput redis_submit_rate(const RedisConfig& c, const fs::path& dir, int producers, int inflight,
                             const Limits& limits) {
  RedisProcess server(c.path, dir, c.aof);
  const CostMeter meter(server.pid(), dir);
  std::atomic<std::size_t> total{0};
  const double elapsed = run_threads(producers, limits.seconds, [&](int p, std::latch& ready, auto start, auto window) {
    RedisConn conn(server.port());
    ready.count_down();
    const auto begin = start.get();
    total += push_loop(conn, "p" + std::to_string(p) + "-", inflight,
                       limits.max_jobs / static_cast<std::size_t>(producers), begin + window);
  });
  return {static_cast<double>(total) / elapsed, meter.per_job(total)};
}

Throughput redis_cycle_rate(const RedisConfig& c, const fs::path& dir, int producers, int workers, int batch,
                            const Limits& limits) {
  RedisProcess server(c.path, dir, c.aof);
  const CostMeter meter(server.pid(), dir);
  std::atomic<std::size_t> completed{0};
  run_threads(producers + workers, limits.seconds, [&](int i, std::latch& ready, auto start, auto window) {
    RedisConn conn(server.port());
    ready.count_down();
    const auto deadline = start.get() + window;
    if (i < producers) {
      push_loop(conn, "p" + std::to_string(i) + "-", 64, limits.max_jobs / static_cast<std::size_t>(producers),
                deadline);
      return;
    }
    const std::string processing = processing_of(i - producers);
    std::vector<std::string> held;  // taken (and counted): acked with the next round
    while (Clock::now() < deadline) {
      held = take_round(conn, processing, held, batch);
      if (Clock::now() >= deadline) break;  // taken after the end: not counted
      completed += held.size();
    }
    ack_all(conn, processing, held);
  });
  return {static_cast<double>(completed) / limits.seconds, meter.per_job(completed)};
}

Latency redis_latency(const RedisConfig& c, const fs::path& dir, double rate, const Limits& limits) {
  RedisProcess server(c.path, dir, c.aof);
  const auto n = static_cast<std::size_t>(rate * limits.seconds);
  std::vector<double> samples;
  samples.reserve(n);
  std::atomic<std::size_t> received{0};
  std::atomic<bool> stop{false}, failed{false};
  std::exception_ptr failure;
  RedisConn worker(server.port());
  std::thread consumer([&] {
    try {
      const std::string processing = processing_of(0);
      std::vector<std::string> held;
      while (!stop && samples.size() < n) {
        // The previous job's ack, then a BLMOVE that waits at the server
        // until a job comes.
        held = take_round(worker, processing, held, 1);
        if (held.empty()) continue;
        samples.push_back(static_cast<double>(now_ns() - stamp_of(held.front())) / 1e6);
        received = samples.size();
      }
      ack_all(worker, processing, held);
    } catch (...) {
      failure = std::current_exception();
      failed = true;
    }
  });
  RedisConn producer(server.port());
  std::this_thread::sleep_for(100ms);  // the worker is waiting
  const auto t0 = Clock::now();
  std::size_t answered = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto at = t0 + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(static_cast<double>(i) / rate));
    // Open loop: read the LPUSH replies while waiting for the next send time.
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(at - Clock::now()).count();
      if (answered < i && producer.readable(static_cast<int>(std::max<long>(0, left)))) {
        producer.read_integer();
        ++answered;
        continue;
      }
      if (Clock::now() >= at) break;
      if (answered == i) std::this_thread::sleep_until(at);
    }
    // The stamp, then the job's number: unique, as the ack needs.
    std::string body = stamped_body(now_ns());
    const std::string tag = "-" + std::to_string(i);
    body.replace(20, tag.size(), tag);
    producer.append({"LPUSH", kQueue, body});
    producer.send();
  }
  for (; answered < n; ++answered) producer.read_integer();
  const auto deadline = Clock::now() + 5s;
  while (Clock::now() < deadline && received < n && !failed) std::this_thread::sleep_for(5ms);
  stop = true;
  consumer.join();
  if (failure) std::rethrow_exception(failure);
  return percentiles(std::move(samples));
}

Backlog redis_backlog(const RedisConfig& c, const fs::path& dir, std::size_t backlog, std::size_t cycles,
                      const Limits& limits) {
  Backlog r;
  // The rate the backlog rows are held to: the same rows with nothing
  // waiting behind the jobs they take (its fill is not measured).
  fs::path near_empty_dir = dir;
  near_empty_dir += "-near-empty";
  auto near = std::make_unique<RedisProcess>(c.path, near_empty_dir, c.aof);
  fill(*near, backlog_taken(cycles), "j");
  auto server = std::make_unique<RedisProcess>(c.path, dir, c.aof);
  r.fill_rate = fill(*server, backlog + backlog_taken(cycles), "j");
  measure_rounds([&](std::size_t n) { return take(*near, n, limits); },
                 [&](std::size_t n) { return take(*server, n, limits); }, cycles / kBacklogRounds, kBacklogRounds, r);
  near.reset();
  r.memory = memory_of(server->pid());
  server->terminate();
  server.reset();
  if (c.aof) {
    const auto t0 = Clock::now();
    server = std::make_unique<RedisProcess>(c.path, dir, c.aof);  // ready once it answers: after loading its AOF
    r.restart_s = seconds_since(t0);
  }
  return r;
}

}  // namespace ledgerq::bench
