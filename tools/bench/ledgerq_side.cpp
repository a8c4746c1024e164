// The scenarios on ledgerq, driven through libclient.
#include <atomic>
#include <deque>
#include <fstream>
#include <future>
#include <latch>
#include <ledgerq/ledgerq.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "broker_process.hpp"  // tools/common
#include "codec/codec.hpp"
#include "scenarios.hpp"
#include "transport/keys.hpp"

namespace ledgerq::bench {

namespace lq = ledgerq::client;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr const char* kDatasource = "bench";

/// A broker on a fresh directory, with the bench's datasource created.
struct Server {
  Server(const LedgerqConfig& c, const fs::path& dir) : config(c), data(dir) {
    if (config.curve) make_keys();
    start();
  }

  // Secure mode: the broker's keys and one admin principal, "bench", that
  // every peer of the run uses.
  void make_keys() {
    fs::path keys_dir = data;
    keys_dir += "-keys";
    fs::create_directories(keys_dir);
    const auto server = keys::generate(), peer = keys::generate();
    keys::write_pair(keys_dir / "broker", server);
    std::ofstream(keys_dir / "principals") << peer.public_z85 << " admin bench\n";
    flags = {"--curve-secret", (keys_dir / "broker.secret").string(), "--principals",
             (keys_dir / "principals").string()};
    credentials = lq::Credentials{server.public_z85, peer.public_z85, peer.secret_z85};
  }

  /// Starts the broker on `data` (again, after a stop).
  void launch() {
    auto all = config.flags;
    all.insert(all.end(), flags.begin(), flags.end());
    broker = std::make_unique<tools::BrokerProcess>(config.broker, data, all);
  }

  void start() {
    launch();
    lq::DriverOptions dopt;
    dopt.router = broker->router();
    dopt.requests_pub = broker->requests_pub();
    dopt.credentials = credentials;
    lq::Driver driver(dopt);
    driver.create_datasource(kDatasource);
  }

  lq::ClientOptions client_options() const {
    lq::ClientOptions o;
    o.router = broker->router();
    o.status_pub = broker->status_pub();
    o.credentials = credentials;
    return o;
  }

  lq::WorkerOptions worker_options(const std::string& name) const {
    lq::WorkerOptions o;
    o.router = broker->router();
    o.requests_pub = broker->requests_pub();
    o.name = credentials ? "bench:" + name : name;  // a lease carries its principal's name
    o.watch_cancels = false;  // its topic carries every submit and body: not a worker's cost here
    o.credentials = credentials;
    return o;
  }

  /// A raw DEALER to the broker, with the run's keys.
  void secure(zmq::socket_t& sock) const {
    if (!credentials) return;
    sock.set(zmq::sockopt::curve_serverkey, credentials->server_key);
    sock.set(zmq::sockopt::curve_publickey, credentials->public_key);
    sock.set(zmq::sockopt::curve_secretkey, credentials->secret_key);
  }

  LedgerqConfig config;
  fs::path data;
  std::vector<std::string> flags;  ///< secure mode's, beside config.flags
  std::optional<lq::Credentials> credentials;
  std::unique_ptr<tools::BrokerProcess> broker;
};

/// The broker's stats at one moment, read over a raw DEALER (libclient has
/// no operator calls), with the moment it was read.
struct StatsAt {
  reply::Stats stats;
  Clock::time_point at;
};

StatsAt read_stats(const Server& s) {
  zmq::context_t ctx(1);
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::rcvtimeo, 10'000);
  s.secure(dealer);
  dealer.connect(s.broker->router());
  dealer.send(zmq::buffer(codec::kSignature), zmq::send_flags::sndmore);
  dealer.send(zmq::buffer(codec::encode_request(Request{1, cmd::Stats{}})), zmq::send_flags::none);
  std::vector<zmq::message_t> parts;
  if (!zmq::recv_multipart(dealer, std::back_inserter(parts)) || parts.size() != 2)
    throw std::runtime_error("no stats reply from the broker");
  auto r = codec::decode_reply(parts[1].to_string_view(), "stats");
  if (!r || r->code != Code::ok) throw std::runtime_error("stats failed");
  return {std::get<reply::Stats>(r->body), Clock::now()};
}

BrokerShare share_between(const StatsAt& a, const StatsAt& b) {
  const double wall_us = std::chrono::duration<double, std::micro>(b.at - a.at).count();
  BrokerShare s;
  if (wall_us <= 0) return s;
  s.apply = static_cast<double>(b.stats.apply_us - a.stats.apply_us) / wall_us;
  s.commit = static_cast<double>(b.stats.commit_us - a.stats.commit_us) / wall_us;
  const auto txns = b.stats.transactions - a.stats.transactions;
  if (txns == 0) return s;
  const auto per_txn = [&](std::uint64_t x) { return static_cast<double>(x) / static_cast<double>(txns); };
  s.requests_per_txn = per_txn(b.stats.requests - a.stats.requests);
  s.apply_us_per_txn = per_txn(b.stats.apply_us - a.stats.apply_us);
  s.commit_us_per_txn = per_txn(b.stats.commit_us - a.stats.commit_us);
  return s;
}

const lq::Payload& body100() {
  static const lq::Payload body = lq::Payload::from_bytes(std::string(kBodyBytes, 'x'));
  return body;
}

/// Submits until `deadline` or `max_jobs`, `inflight` at a time; returns how many.
std::size_t submit_loop(lq::Client& client, const std::string& prefix, int inflight, std::size_t max_jobs,
                        Clock::time_point deadline) {
  std::size_t done = 0;
  if (inflight <= 1) {
    for (; done < max_jobs && Clock::now() < deadline; ++done)
      (void)client.submit(kDatasource, prefix + std::to_string(done), body100());
    return done;
  }
  std::deque<std::future<lq::SubmitResult>> pending;
  std::size_t sent = 0;
  while (sent < max_jobs && Clock::now() < deadline) {
    while (pending.size() < static_cast<std::size_t>(inflight) && sent < max_jobs)
      pending.push_back(client.submit_async(kDatasource, prefix + std::to_string(sent++), body100()));
    pending.front().get();
    pending.pop_front();
    ++done;
  }
  for (auto& f : pending) f.get();
  return done + pending.size();
}

/// Submits `total` jobs, 1000 per submit_batch with 8 batches in flight;
/// returns jobs/s.
double fill(Server& s, std::size_t total) {
  lq::Client client("bench-fill", s.client_options());
  const auto t0 = Clock::now();
  std::deque<std::future<std::vector<lq::ItemResult>>> inflight;
  for (std::size_t i = 0; i < total;) {
    std::vector<lq::BatchJob> batch;
    for (; batch.size() < 1000 && i < total; ++i) batch.push_back({"j" + std::to_string(i), body100(), {}});
    inflight.push_back(client.submit_batch_async(kDatasource, batch));
    if (inflight.size() >= 8) {
      inflight.front().get();
      inflight.pop_front();
    }
  }
  for (auto& f : inflight) f.get();
  return static_cast<double>(total) / seconds_since(t0);
}

/// The backlog scenario's dequeue rows on one worker: a tenth of `cycles`
/// one per round trip, then `cycles` 100 per round trip, each leased and
/// acked (the acks riding with the next dequeue), each bounded by
/// limits.seconds. Throws if the queue runs dry: the rate would be a lie.
DequeueRates take(Server& s, std::size_t cycles, const Limits& limits) {
  lq::Worker worker(kDatasource, s.worker_options("bench-worker"));
  auto cycle = [&](std::uint32_t limit, std::size_t jobs) {
    std::size_t done = 0;
    const auto t0 = Clock::now();
    const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(limits.seconds));
    while (done < jobs && Clock::now() < deadline) {
      auto leased = worker.dequeue(limit);  // carries the acks queued by the round before
      if (leased.empty()) throw std::runtime_error("the backlog ran dry");
      for (const auto& j : leased) worker.ack_success_later(j.job);
      done += leased.size();
    }
    worker.flush_acks();
    return static_cast<double>(done) / seconds_since(t0);
  };
  DequeueRates r;
  r.one = cycle(1, cycles / 10);
  r.hundred = cycle(100, cycles);
  return r;
}

}  // namespace

Throughput ledgerq_submit_rate(const LedgerqConfig& c, const fs::path& dir, int producers, int inflight,
                               const Limits& limits, BrokerShare* share) {
  Server s(c, dir);
  const StatsAt before = read_stats(s);
  const CostMeter meter(s.broker->pid(), s.data);
  std::atomic<std::size_t> total{0};
  const double elapsed = run_threads(producers, limits.seconds, [&](int p, std::latch& ready, auto start, auto window) {
    lq::Client client("bench-p" + std::to_string(p), s.client_options());
    ready.count_down();
    total += submit_loop(client, "p" + std::to_string(p) + "-", inflight,
                         limits.max_jobs / static_cast<std::size_t>(producers), start.get() + window);
  });
  const ServerCost cost = meter.per_job(total);
  if (share) *share = share_between(before, read_stats(s));
  return {static_cast<double>(total) / elapsed, cost};
}

namespace {

/// Whatever fails in a latency scenario (a stats read, a submit), its
/// consumer stops and is joined before the exception leaves.
struct StopAndJoin {
  std::atomic<bool>& stop;
  std::thread& thread;
  ~StopAndJoin() {
    stop = true;
    if (thread.joinable()) thread.join();
  }
};

}  // namespace

Throughput ledgerq_cycle_rate(const LedgerqConfig& c, const fs::path& dir, int producers, int workers, int batch,
                              const Limits& limits, BrokerShare* share) {
  Server s(c, dir);
  const StatsAt before = read_stats(s);
  const CostMeter meter(s.broker->pid(), s.data);
  std::atomic<std::size_t> completed{0};
  run_threads(producers + workers, limits.seconds, [&](int i, std::latch& ready, auto start, auto window) {
    if (i < producers) {
      lq::Client client("bench-p" + std::to_string(i), s.client_options());
      ready.count_down();
      submit_loop(client, "p" + std::to_string(i) + "-", 64, limits.max_jobs / static_cast<std::size_t>(producers),
                  start.get() + window);
      return;
    }
    lq::Worker worker(kDatasource, s.worker_options("bench-w" + std::to_string(i - producers)));
    ready.count_down();
    const auto deadline = start.get() + window;
    while (Clock::now() < deadline) {
      // Carries the previous round's acks; parks at the broker when nothing
      // is eligible and answers as soon as something is.
      auto leased = worker.dequeue(static_cast<std::uint32_t>(batch), 200ms);
      if (Clock::now() >= deadline) break;
      for (const auto& j : leased) worker.ack_success_later(j.job);
      completed += leased.size();
    }
    worker.flush_acks();
  });
  const ServerCost cost = meter.per_job(completed);
  if (share) *share = share_between(before, read_stats(s));
  return {static_cast<double>(completed) / limits.seconds, cost};
}

void ledgerq_soak(const LedgerqConfig& c, const fs::path& dir, std::size_t jobs, int samples) {
  Server s(c, dir);
  constexpr int kProducers = 2, kWorkers = 4;
  std::atomic<std::size_t> completed{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  std::mutex failed_mutex;
  std::exception_ptr failed;
  auto guard = [&](auto f) {
    return [&, f] {
      try {
        f();
      } catch (...) {
        std::lock_guard lock(failed_mutex);
        if (!failed) failed = std::current_exception();
        stop = true;
      }
    };
  };
  for (int p = 0; p < kProducers; ++p)
    threads.emplace_back(guard([&, p] {
      lq::Client client("bench-p" + std::to_string(p), s.client_options());
      // Paced by the workers: at most a million jobs waiting.
      const std::string prefix = "p" + std::to_string(p) + "-";
      for (std::size_t sent = 0; sent < jobs / kProducers && !stop;) {
        const std::size_t step = std::min<std::size_t>(10'000, jobs / kProducers - sent);
        while (sent * kProducers > completed + 1'000'000 && !stop) std::this_thread::sleep_for(10ms);
        sent += submit_loop(client, prefix + std::to_string(sent) + "-", 64, step, Clock::time_point::max());
      }
    }));
  for (int w = 0; w < kWorkers; ++w)
    threads.emplace_back(guard([&, w] {
      lq::Worker worker(kDatasource, s.worker_options("bench-w" + std::to_string(w)));
      while (completed < jobs && !stop) {
        auto leased = worker.dequeue(static_cast<std::uint32_t>(kCycleBatch), 200ms);
        for (const auto& j : leased) worker.ack_success_later(j.job);
        completed += leased.size();
      }
      worker.flush_acks();
    }));
  std::printf("%12s %8s %10s %10s %10s %10s %12s %12s %12s\n", "jobs done", "s", "jobs/s", "map used", "map size",
              "log+notes", "finished", "collected", "trimmed");
  const auto t0 = Clock::now();
  auto last = t0;
  std::size_t last_done = 0;
  for (int i = 1; i <= samples && !stop; ++i) {
    const std::size_t target = jobs * static_cast<std::size_t>(i) / static_cast<std::size_t>(samples);
    while (completed < target && !stop) std::this_thread::sleep_for(50ms);
    const auto st = read_stats(s).stats;
    const std::size_t done = completed;
    const auto now = Clock::now();
    std::uint64_t finished = 0;
    for (const auto& d : st.datasources) finished += d.counts.complete + d.counts.failed + d.counts.cancelled;
    constexpr double kMiB = 1024.0 * 1024.0;
    std::printf("%12zu %8.0f %10.0f %8.0f Mi %8.0f Mi %8.0f Mi %12llu %12llu %12llu\n", done,
                std::chrono::duration<double>(now - t0).count(),
                static_cast<double>(done - last_done) / std::chrono::duration<double>(now - last).count(),
                static_cast<double>(st.map_used) / kMiB, static_cast<double>(st.map_size) / kMiB,
                static_cast<double>(st.log_bytes + st.notice_bytes) / kMiB, static_cast<unsigned long long>(finished),
                static_cast<unsigned long long>(st.collected), static_cast<unsigned long long>(st.trimmed));
    std::fflush(stdout);
    last = now;
    last_done = done;
  }
  stop = true;
  for (auto& t : threads) t.join();
  if (failed) std::rethrow_exception(failed);
}

Latency ledgerq_latency(const LedgerqConfig& c, const fs::path& dir, double rate, const Limits& limits,
                        BrokerShare* share) {
  Server s(c, dir);
  const auto n = static_cast<std::size_t>(rate * limits.seconds);
  std::vector<double> samples;
  samples.reserve(n);
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> received{0};
  std::exception_ptr failure;
  lq::Worker worker(kDatasource, s.worker_options("bench-latency"));
  std::thread consumer([&] {
    try {
      while (!stop) {
        auto leased = worker.dequeue(1, 200ms);  // parked at the broker until a job comes
        const auto now = now_ns();
        for (const auto& j : leased) {
          samples.push_back(static_cast<double>(now - stamp_of(j.request.as_bytes())) / 1e6);
          worker.ack_success_later(j.job);
        }
        received = samples.size();
        if (samples.size() >= n) break;
      }
      worker.flush_acks();
    } catch (...) {
      failure = std::current_exception();
    }
  });
  StopAndJoin stop_consumer{stop, consumer};
  lq::Client client("bench-latency", s.client_options());
  std::this_thread::sleep_for(100ms);  // the worker is waiting
  std::deque<std::future<lq::SubmitResult>> pending;
  std::optional<StatsAt> before;
  if (share) before = read_stats(s);
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    std::this_thread::sleep_until(t0 + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(static_cast<double>(i) / rate)));
    pending.push_back(client.submit_async(kDatasource, "l" + std::to_string(i), lq::Payload::from_bytes(
                                                                                     stamped_body(now_ns()))));
    while (!pending.empty() && pending.front().wait_for(0s) == std::future_status::ready) {
      pending.front().get();
      pending.pop_front();
    }
  }
  for (auto& f : pending) f.get();
  const auto deadline = Clock::now() + 5s;
  while (Clock::now() < deadline && received < n) std::this_thread::sleep_for(5ms);
  if (share) *share = share_between(*before, read_stats(s));
  stop = true;
  consumer.join();
  if (failure) std::rethrow_exception(failure);
  return percentiles(std::move(samples));
}

namespace {

// A body as Payload::from_bytes makes it: msgpack bin 8 (bodies here are 100 bytes).
Any bin_body(const std::string& bytes) {
  std::string m = "\xc4";
  m.push_back(static_cast<char>(bytes.size()));
  return Any{m + bytes};
}

std::string_view bin_bytes(const Any& a) {
  if (a.msgpack.size() < 2 || a.msgpack[0] != '\xc4') throw std::runtime_error("a body that is not bin 8");
  return std::string_view(a.msgpack).substr(2);
}

void send_request(zmq::socket_t& s, std::uint64_t rid, Command c) {
  s.send(zmq::buffer(codec::kSignature), zmq::send_flags::sndmore);
  s.send(zmq::buffer(codec::encode_request(Request{rid, std::move(c)})), zmq::send_flags::none);
}

}  // namespace

Latency ledgerq_latency_raw(const LedgerqConfig& c, const fs::path& dir, double rate, const Limits& limits) {
  Server s(c, dir);
  if (s.credentials) throw std::logic_error("ledgerq_latency_raw: plain mode only");
  const auto n = static_cast<std::size_t>(rate * limits.seconds);
  std::vector<double> samples;
  samples.reserve(n);
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> received{0};
  std::exception_ptr failure;
  std::latch waiting(1);
  std::thread consumer([&] {
    bool counted = false;
    auto parked = [&] {  // once: the producer starts after it
      if (!counted) waiting.count_down();
      counted = true;
    };
    try {
      zmq::context_t ctx(1);
      zmq::socket_t worker(ctx, zmq::socket_type::dealer);
      worker.set(zmq::sockopt::linger, 0);
      worker.set(zmq::sockopt::rcvtimeo, 10'000);
      worker.connect(s.broker->router());
      std::vector<cmd::AckItem> acks;  // the previous trip's, riding with the next dequeue
      std::uint64_t rid = 0;
      while (!stop && samples.size() < n) {
        cmd::Dequeue d{kDatasource, "bench-raw", 1u, std::nullopt, std::nullopt, 200u, false, std::move(acks), ""};
        acks.clear();
        send_request(worker, ++rid, std::move(d));
        parked();  // sent: parked at the broker before the first submit
        std::vector<zmq::message_t> parts;
        if (!zmq::recv_multipart(worker, std::back_inserter(parts)) || parts.size() != 2)
          throw std::runtime_error("no dequeue reply from the broker");
        const auto now = now_ns();
        auto r = codec::decode_reply(parts[1].to_string_view(), "dequeue");
        if (!r || r->code != Code::ok) throw std::runtime_error("dequeue failed");
        for (const auto& j : std::get<reply::Dequeue>(r->body).jobs) {
          if (!j.request) throw std::runtime_error("a leased job without its body");
          samples.push_back(static_cast<double>(now - stamp_of(bin_bytes(*j.request))) / 1e6);
          acks.push_back(cmd::AckItem{j.state.job, j.state.token, "success", std::nullopt, std::nullopt, std::nullopt, ""});
        }
        received = samples.size();
      }
      if (!acks.empty()) {
        send_request(worker, ++rid, cmd::Ack{kDatasource, std::move(acks)});
        std::vector<zmq::message_t> parts;
        (void)zmq::recv_multipart(worker, std::back_inserter(parts));
      }
    } catch (...) {
      failure = std::current_exception();
      parked();
    }
  });
  StopAndJoin stop_consumer{stop, consumer};
  waiting.wait();
  std::this_thread::sleep_for(100ms);  // the worker is waiting
  zmq::context_t ctx(1);
  zmq::socket_t producer(ctx, zmq::socket_type::dealer), status(ctx, zmq::socket_type::sub);
  for (auto* sock : {&producer, &status}) sock->set(zmq::sockopt::linger, 0);
  const std::string client = "bench-latency-raw";
  status.set(zmq::sockopt::subscribe, codec::status_topic(client));
  status.connect(s.broker->status_pub());
  producer.connect(s.broker->router());
  std::size_t replies = 0;
  auto drain = [&] {
    zmq::message_t m;
    while (producer.recv(m, zmq::recv_flags::dontwait))
      if (!m.more()) ++replies;
    while (status.recv(m, zmq::recv_flags::dontwait)) {
    }
  };
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    std::this_thread::sleep_until(t0 + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(static_cast<double>(i) / rate)));
    send_request(producer, i + 1,
                 cmd::Submit{kDatasource, "r" + std::to_string(i), client, bin_body(stamped_body(now_ns())), {}});
    drain();
  }
  const auto deadline = Clock::now() + 5s;
  while (Clock::now() < deadline && (received < n || replies < n)) {
    drain();
    std::this_thread::sleep_for(1ms);
  }
  stop = true;
  consumer.join();
  if (failure) std::rethrow_exception(failure);
  return percentiles(std::move(samples));
}

Backlog ledgerq_backlog(const LedgerqConfig& c, const fs::path& dir, std::size_t backlog, std::size_t cycles,
                        const Limits& limits) {
  Backlog r;
  // The rate the backlog rows are held to: the same rows, same side, with
  // nothing waiting behind the jobs they take.
  fs::path near_empty_dir = dir;
  near_empty_dir += "-near-empty";
  auto near = std::make_unique<Server>(c, near_empty_dir);
  fill(*near, backlog_taken(cycles));
  Server s(c, dir);
  r.fill_rate = fill(s, backlog + backlog_taken(cycles));
  measure_rounds([&](std::size_t n) { return take(*near, n, limits); }, [&](std::size_t n) { return take(s, n, limits); },
                 cycles / kBacklogRounds, kBacklogRounds, r);
  near.reset();
  r.memory = memory_of(s.broker->pid());
  s.broker->terminate();
  s.broker.reset();
  const auto t0 = Clock::now();
  s.launch();
  r.restart_s = seconds_since(t0);
  return r;
}

}  // namespace ledgerq::bench
