// The machine's ceilings, measured without ledgerq's code: raw LMDB commits
// (what fsync allows) and raw ZeroMQ DEALER/ROUTER round trips on loopback
// (what the transport allows), so ledgerq's figures read as fractions.
#include <lmdb.h>

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
/// records; returns {commits/s, records/s}.
std::pair<double, double> lmdb_commits(const fs::path& dir, unsigned flags, std::size_t per_txn,
                                       const Limits& limits) {
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
    check(mdb_txn_commit(txn), "mdb_txn_commit");
    ++commits;
    records += per_txn;
  }
  const double s = seconds_since(t0);
  return {static_cast<double>(commits) / s, static_cast<double>(records) / s};
}

/// Messages of 100 bytes echoed by a ROUTER thread, `inflight` at a time.
double zmq_echo(int inflight, const Limits& limits) {
  zmq::context_t ctx(1);
  zmq::socket_t router(ctx, zmq::socket_type::router);
  router.set(zmq::sockopt::linger, 0);
  router.bind("tcp://127.0.0.1:*");
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

}  // namespace

Ceilings measure_ceilings(const fs::path& dir, const Limits& limits) {
  Ceilings c;
  c.lmdb_sync_commits = lmdb_commits(dir / "lmdb-sync", 0, 1, limits).first;
  auto [commits, records] = lmdb_commits(dir / "lmdb-batch", 0, 1000, limits);
  c.lmdb_batch_commits = commits;
  c.lmdb_batch_records = records;
  c.lmdb_nosync_commits = lmdb_commits(dir / "lmdb-nosync", MDB_NOSYNC, 1, limits).first;
  c.zmq_round_trips = zmq_echo(1, limits);
  c.zmq_pipelined = zmq_echo(64, limits);
  return c;
}

}  // namespace ledgerq::bench
