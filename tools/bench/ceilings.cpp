// The machine's ceilings, measured without ledgerq's code: raw LMDB commits
// and raw appends + fdatasync (what the disk allows) and raw ZeroMQ
// DEALER/ROUTER round trips on loopback (what the transport allows), so
// ledgerq's figures read as fractions.
#include <fcntl.h>
#include <lmdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>


#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "scenarios.hpp"

namespace ledgerq::bench {

namespace fs = std::filesystem;

namespace {

void check(int rc, const char* what) {
  if (rc != MDB_SUCCESS) throw std::runtime_error(std::string(what) + ": " + mdb_strerror(rc));
}

/// Commits of `per_txn` 100-byte records each, until the deadline or max_jobs
/// records; returns {commits/s, records/s}. `each_ms`, when given, gets
/// every commit's duration.
std::pair<double, double> lmdb_commits(const fs::path& dir, unsigned flags, std::size_t per_txn,
                                       const Limits& limits, std::vector<double>* each_ms = nullptr) {
  fs::create_directories(dir);
  MDB_env* env = nullptr;
  check(mdb_env_create(&env), "mdb_env_create");
  struct Closer {
    MDB_env* env;
    ~Closer() { mdb_env_close(env); }
  } closer{env};
  check(mdb_env_set_mapsize(env, std::size_t{1} << 32), "mdb_env_set_mapsize");
  check(mdb_env_open(env, dir.c_str(), flags, 0644), "mdb_env_open");
  MDB_dbi dbi = 0;
  {
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env, nullptr, 0, &txn), "mdb_txn_begin");
    check(mdb_dbi_open(txn, nullptr, 0, &dbi), "mdb_dbi_open");
    check(mdb_txn_commit(txn), "mdb_txn_commit");
  }
  std::string value(kBodyBytes, 'x');
  std::uint64_t key = 0;
  std::size_t commits = 0, records = 0;
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limits.seconds));
  while (records < limits.max_jobs && Clock::now() < deadline) {
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env, nullptr, 0, &txn), "mdb_txn_begin");
    for (std::size_t i = 0; i < per_txn; ++i) {
      std::uint64_t be = __builtin_bswap64(++key);  // increasing keys, like the log
      MDB_val k{sizeof be, &be}, v{value.size(), value.data()};
      int rc = mdb_put(txn, dbi, &k, &v, MDB_APPEND);
      if (rc != MDB_SUCCESS) {
        mdb_txn_abort(txn);
        check(rc, "mdb_put");
      }
    }
    const auto c0 = Clock::now();
    check(mdb_txn_commit(txn), "mdb_txn_commit");
    if (each_ms) each_ms->push_back(seconds_since(c0) * 1e3);
    ++commits;
    records += per_txn;
  }
  const double s = seconds_since(t0);
  return {static_cast<double>(commits) / s, static_cast<double>(records) / s};
}

/// 4 KiB appended to a file in `dir` then fdatasync'd, one after the other,
/// until the deadline or max_jobs; returns appends/s, and each one's
/// duration in `each_ms`. A log's durable append at its cheapest: one
/// write, one flush, nothing else.
double append_syncs(const fs::path& dir, const Limits& limits, std::vector<double>& each_ms) {
  fs::create_directories(dir);
  const fs::path file = dir / "append";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + file.string() + ": " + std::strerror(errno));
  const std::string block(4096, 'x');
  std::size_t n = 0;
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limits.seconds));
  while (n < limits.max_jobs && Clock::now() < deadline) {
    const auto a0 = Clock::now();
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size()) || ::fdatasync(fd) != 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      throw std::runtime_error("append + fdatasync on " + file.string() + ": " + why);
    }
    each_ms.push_back(seconds_since(a0) * 1e3);
    ++n;
  }
  const double s = seconds_since(t0);
  ::close(fd);
  return static_cast<double>(n) / s;
}

/// 4 KiB written over a zero-filled 1 MiB file, in turn at each 4 KiB of
/// it, then fdatasync'd: a journal's durable record at its cheapest, no
/// block allocated and no size changed. `gap` between flushes (0: back to
/// back) sleeps as an idle broker does. Until the deadline or max_jobs, at
/// most 1000. Returns each one's duration; `writes` the disk's write
/// requests per flush.
std::vector<double> overwrite_syncs(const fs::path& dir, const Limits& limits, std::chrono::microseconds gap,
                                    std::optional<double>& writes) {
  fs::create_directories(dir);
  const fs::path file = dir / "overwrite";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + file.string() + ": " + std::strerror(errno));
  constexpr std::size_t kBlocks = 256;
  auto fail = [&](const char* what) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error(std::string(what) + " on " + file.string() + ": " + why);
  };
  const std::string zeros(4096 * kBlocks, '\0');
  if (::write(fd, zeros.data(), zeros.size()) != static_cast<ssize_t>(zeros.size()) || ::fdatasync(fd) != 0)
    fail("zero fill");
  std::string block(4096, 'x');
  std::vector<double> each_ms;
  const auto before = disk_writes(dir);
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limits.seconds));
  while (each_ms.size() < std::min<std::size_t>(limits.max_jobs, 1000) && Clock::now() < deadline) {
    if (gap.count() > 0) std::this_thread::sleep_for(gap);
    block[0] = static_cast<char>(each_ms.size());
    const auto a0 = Clock::now();
    const auto at = static_cast<off_t>(4096 * (each_ms.size() % kBlocks));
    if (::pwrite(fd, block.data(), block.size(), at) != static_cast<ssize_t>(block.size()) || ::fdatasync(fd) != 0)
      fail("overwrite + fdatasync");
    each_ms.push_back(seconds_since(a0) * 1e3);
  }
  const auto after = disk_writes(dir);
  if (before && after && !each_ms.empty())
    writes = static_cast<double>(*after - *before) / static_cast<double>(each_ms.size());
  ::close(fd);
  return each_ms;
}

/// A ROUTER bound to a free loopback port (its last_endpoint says which).
zmq::socket_t loopback_router(zmq::context_t& ctx) {
  zmq::socket_t router(ctx, zmq::socket_type::router);
  router.set(zmq::sockopt::linger, 0);
  router.bind("tcp://127.0.0.1:*");
  return router;
}

/// Messages of 100 bytes echoed by a ROUTER thread, `inflight` at a time.
double zmq_echo(int inflight, const Limits& limits) {
  zmq::context_t ctx(1);
  zmq::socket_t router = loopback_router(ctx);
  const std::string endpoint = router.get(zmq::sockopt::last_endpoint);
  std::thread echo([&] {
    try {
      for (;;) {
        zmq::message_t id, body;
        if (!router.recv(id)) continue;
        (void)router.recv(body);
        if (body.size() == 0) break;  // the stop message
        router.send(id, zmq::send_flags::sndmore);
        router.send(body, zmq::send_flags::none);
      }
    } catch (const zmq::error_t&) {
    }
  });
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.connect(endpoint);
  const std::string payload(kBodyBytes, 'x');
  std::size_t sent = 0, received = 0;
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limits.seconds));
  while (received < limits.max_jobs && Clock::now() < deadline) {
    while (sent - received < static_cast<std::size_t>(inflight)) {
      dealer.send(zmq::buffer(payload), zmq::send_flags::none);
      ++sent;
    }
    zmq::message_t reply;
    (void)dealer.recv(reply);
    ++received;
  }
  const double s = seconds_since(t0);
  const std::size_t counted = received;
  for (; received < sent; ++received) {
    zmq::message_t reply;
    (void)dealer.recv(reply);
  }
  dealer.send(zmq::message_t(), zmq::send_flags::none);
  echo.join();
  return static_cast<double>(counted) / s;
}

/// Offers `n` stamped messages at `rate`/s, open loop, through `send`.
template <class Send> void offer(std::size_t n, double rate, Send send) {
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    std::this_thread::sleep_until(t0 + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(static_cast<double>(i) / rate)));
    send(stamped_body(now_ns()));
  }
}

/// The hops of the latency row without ledgerq: a producer DEALER sends
/// stamped messages at `rate`/s (open loop) to a ROUTER thread, which hands
/// each to the worker DEALER that said it is waiting; the worker takes the
/// difference. No storage, no libclient: what ZeroMQ alone costs. With
/// `context_each`, the three sockets have a context (an I/O thread) each,
/// as the producer, the broker and the worker do in their own processes;
/// without, one I/O thread serves all three, which saves two thread hops.
Latency zmq_relay(double rate, const Limits& limits, bool context_each) {
  zmq::context_t shared(1), router_ctx(1), worker_ctx(1);
  zmq::socket_t router = loopback_router(context_each ? router_ctx : shared);
  const std::string endpoint = router.get(zmq::sockopt::last_endpoint);
  zmq::socket_t worker(context_each ? worker_ctx : shared, zmq::socket_type::dealer);
  zmq::socket_t producer(shared, zmq::socket_type::dealer);
  worker.set(zmq::sockopt::routing_id, "worker");  // before connecting: the ROUTER routes by it
  for (auto* s : {&worker, &producer}) {
    s->set(zmq::sockopt::linger, 0);
    s->connect(endpoint);
  }
  worker.send(zmq::str_buffer("ready"), zmq::send_flags::none);
  std::thread relay([&] {
    try {
      zmq::message_t id, body;
      (void)router.recv(id);  // the worker's "ready"
      (void)router.recv(body);
      for (;;) {
        (void)router.recv(id);
        (void)router.recv(body);
        router.send(zmq::str_buffer("worker"), zmq::send_flags::sndmore);
        const bool last = body.size() == 0;
        router.send(body, zmq::send_flags::none);
        if (last) break;
      }
    } catch (const zmq::error_t&) {
    }
  });
  const auto n = static_cast<std::size_t>(rate * limits.seconds);
  std::vector<double> samples;
  samples.reserve(n);
  std::thread taker([&] {
    for (;;) {
      zmq::message_t m;
      (void)worker.recv(m);
      if (m.size() == 0) break;
      samples.push_back(static_cast<double>(now_ns() - stamp_of(m.to_string_view())) / 1e6);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the worker is waiting
  offer(n, rate, [&](const std::string& body) { producer.send(zmq::buffer(body), zmq::send_flags::none); });
  producer.send(zmq::message_t(), zmq::send_flags::none);
  taker.join();
  relay.join();
  return percentiles(std::move(samples));
}

/// Closes a file descriptor when it goes.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

/// Reads exactly n bytes; false at end of stream.
bool read_exact(int fd, char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t got = ::read(fd, p, n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    p += got;
    n -= static_cast<std::size_t>(got);
  }
  return true;
}

/// The same relay over plain TCP sockets, blocking reads and writes, as
/// beanstalkd's clients and its one thread do: the kernel's loopback and
/// three processes' wake-ups, and no I/O threads.
Latency tcp_relay(double rate, const Limits& limits) {
  int port = 0;
  Fd listener(bind_loopback(port));
  if (::listen(listener.fd, 2) != 0) throw std::runtime_error("tcp relay: cannot listen");
  // Each connection is checked before its accept, which would otherwise wait for ever.
  auto connected = [&](Fd& client) {
    if (client.fd < 0) throw std::runtime_error("tcp relay: cannot connect");
    return ::accept(listener.fd, nullptr, nullptr);
  };
  Fd producer(connect_loopback(port));
  Fd from_producer(connected(producer));
  Fd worker(connect_loopback(port));
  Fd to_worker(connected(worker));
  if (from_producer.fd < 0 || to_worker.fd < 0) throw std::runtime_error("tcp relay: cannot accept");
  int one = 1;
  ::setsockopt(to_worker.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::thread relay([&] {
    char body[kBodyBytes];
    try {
      while (read_exact(from_producer.fd, body, sizeof body))
        send_all(to_worker.fd, std::string_view(body, sizeof body), "tcp relay");
    } catch (const std::exception&) {
    }
    ::shutdown(to_worker.fd, SHUT_WR);
  });
  const auto n = static_cast<std::size_t>(rate * limits.seconds);
  std::vector<double> samples;
  samples.reserve(n);
  std::thread taker([&] {
    char body[kBodyBytes];
    while (read_exact(worker.fd, body, sizeof body))
      samples.push_back(static_cast<double>(now_ns() - stamp_of(std::string_view(body, sizeof body))) / 1e6);
  });
  // The producer's end of stream stops the relay, whose end of stream stops
  // the taker: on the way out, failed or not.
  auto stop = [&] {
    ::shutdown(producer.fd, SHUT_WR);
    relay.join();
    taker.join();
  };
  try {
    offer(n, rate, [&](const std::string& body) { send_all(producer.fd, body, "tcp relay"); });
  } catch (...) {
    stop();
    throw;
  }
  stop();
  return percentiles(std::move(samples));
}

}  // namespace

Ceilings measure_ceilings(const fs::path& dir, const Limits& limits, double rate, const Limits& relay) {
  Ceilings c;
  std::vector<double> commit_ms;
  c.lmdb_sync_commits = lmdb_commits(dir / "lmdb-sync", 0, 1, limits, &commit_ms).first;
  c.lmdb_commit = percentiles(std::move(commit_ms));
  std::vector<double> append_ms;
  c.append_syncs = append_syncs(dir / "append", limits, append_ms);
  c.append_sync = percentiles(std::move(append_ms));
  c.overwrite_sync = percentiles(overwrite_syncs(dir / "overwrite", limits, {}, c.overwrite_writes));
  const auto pace = std::chrono::microseconds(static_cast<std::int64_t>(1e6 / rate));
  c.overwrite_sync_paced = percentiles(overwrite_syncs(dir / "overwrite", limits, pace, c.overwrite_writes_paced));
  c.zmq_relay = zmq_relay(rate, relay, false);
  c.zmq_relay_apart = zmq_relay(rate, relay, true);
  c.tcp_relay = tcp_relay(rate, relay);
  auto [commits, records] = lmdb_commits(dir / "lmdb-batch", 0, 1000, limits);
  c.lmdb_batch_commits = commits;
  c.lmdb_batch_records = records;
  c.lmdb_nosync_commits = lmdb_commits(dir / "lmdb-nosync", MDB_NOSYNC, 1, limits).first;
  c.zmq_round_trips = zmq_echo(1, limits);
  c.zmq_pipelined = zmq_echo(64, limits);
  return c;
}

}  // namespace ledgerq::bench
