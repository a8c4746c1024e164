// ledgerq-core-bench: the broker's per-command work alone, on one thread, no
// sockets: request bytes decoded, executed against a real LMDB store in
// turns (one write transaction each, as the broker commits), replies and
// notices encoded. What it prints is the CPU a job costs the broker, the
// figure the end-to-end rows of ledgerq-bench are bounded by once fsync is
// amortized. Deterministic enough for A/B work under
// `valgrind --tool=callgrind` (this VM has no hardware counters for perf),
// which wall-clock rows on a shared machine are not. Each row also says how
// many bytes the store wrote per job (LMDB's pages, and in durable modes
// the zeros written ahead of them): what a durable commit hands the disk.
//
// --storage-alone adds, under each row, the same row's storage work alone:
// every turn is run a second time on a third store through a RecordingKv
// (kv_trace.hpp), untimed, and its reads, writes, scans and commit are
// replayed on a store of their own, timed. Both rows then time only the
// turns, which alternate, so a slow second of the machine lands on both.
//
// The last row is the durable latency's share of the broker: the turn a
// lone job waits for (its submit, and the parked dequeue it wakes), as p50
// and p99, beside a 1-record commit timed between those turns.
//
//   ledgerq-core-bench [--jobs N] [--sync none|full] [--turn N] [--keep DIR] [--storage-alone]
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bench.hpp"           // percentiles
#include "broker_process.hpp"  // tools/common: TempDir
#include "codec/codec.hpp"
#include "domain/machine.hpp"
#include "kv_trace.hpp"
#include "storage/lmdb_env.hpp"

namespace {

using namespace ledgerq;
using Clock = std::chrono::steady_clock;

constexpr const char* kDatasource = "bench";

Any body100() {
  std::string m = "\xd9\x62";  // str8 of 98 bytes: 100 bytes of msgpack
  m.append(98, 'x');
  return Any{m};
}

std::string request_bytes(std::uint64_t rid, Command c) { return codec::encode_request(Request{rid, std::move(c)}); }

using Seconds = std::chrono::duration<double>;

struct Core {
  storage::Env& env;
  domain::Runtime runtime;
  Micros now = 1'700'000'000'000'000;
  std::size_t out_bytes = 0;  // keeps the encoders' work observable

  // One turn as the broker runs it: decode, execute, commit, encode. With
  // `record`, every storage call goes to it as well.
  std::vector<Reply> turn(const std::vector<std::string>& requests, std::vector<bench::KvOp>* record = nullptr) {
    now += 1000;
    std::vector<Reply> replies;
    std::vector<domain::Notice> notices;
    auto txn = env.begin_write();
    std::optional<bench::RecordingKv> recording;
    if (record) recording.emplace(txn, *record);
    domain::View view(record ? static_cast<domain::Kv&>(*recording) : txn);
    const domain::Context ctx{now, &runtime, nullptr};
    for (const auto& bytes : requests) {
      auto d = codec::decode_request(bytes);
      if (!d.command) throw std::runtime_error("bad request: " + d.command.error().message);
      auto out = domain::execute(view, *d.command, ctx);
      if (!out.reply.ok()) throw std::runtime_error("refused: " + out.reply.error().message);
      for (auto& n : out.notices) notices.push_back(std::move(n));
      replies.push_back(Reply{d.rid, Code::ok, {}, std::move(out.reply).value()});
    }
    // As the broker publishes: status notices with the bytes stored for them.
    for (const auto& n : notices) {
      if (const auto* s = std::get_if<StatusNotice>(&n)) out_bytes += view.take_notice_bytes(*s).size();
      else out_bytes += codec::encode(std::get<RequestEntry>(n)).size();
    }
    view.flush();
    txn.commit();
    for (const auto& r : replies) out_bytes += codec::encode_reply(r).size();
    return replies;
  }
};

// Bytes this process has handed to write(2)-like calls (/proc/self/io
// wchar): here, LMDB's page writes and the zeros written ahead of them.
// With fsync, what a durable row pays the disk per job; 0 if unreadable.
std::uint64_t bytes_written() {
  std::ifstream io("/proc/self/io");
  std::string key;
  std::uint64_t value = 0;
  while (io >> key >> value)
    if (key == "wchar:") return value;
  return 0;
}

// The timed sides of a run: ledgerq's turns, and (with --storage-alone)
// the same turns' storage work replayed. With `lone` set, each timed turn
// also leaves its duration there, for percentiles.
struct Sides {
  Core& core;
  Core* recorder = nullptr;       // the same turns again, recorded, untimed
  storage::Env* replay = nullptr;  // where the recording is replayed, timed
  Seconds ledgerq{}, storage{};
  std::uint64_t ledgerq_bytes = 0;  // written by ledgerq's turns alone
  struct Samples {
    std::vector<Seconds> ledgerq, storage;
  }* lone = nullptr;

  std::vector<Reply> turn(const std::vector<std::string>& requests) {
    const std::uint64_t w0 = bytes_written();
    auto t0 = Clock::now();
    auto replies = core.turn(requests);
    const Seconds took = Clock::now() - t0;
    ledgerq += took;
    ledgerq_bytes += bytes_written() - w0;
    if (lone) lone->ledgerq.push_back(took);
    if (recorder) {
      std::vector<bench::KvOp> ops;
      recorder->turn(requests, &ops);
      t0 = Clock::now();
      auto txn = replay->begin_write();
      bench::replay(txn, ops);
      txn.commit();
      const Seconds replayed = Clock::now() - t0;
      storage += replayed;
      if (lone) lone->storage.push_back(replayed);
    }
    return replies;
  }
  void reset() {
    ledgerq = storage = Seconds{};
    ledgerq_bytes = 0;
  }
};

// Percentiles (bench.hpp's) of durations.
bench::Latency latency_of(const std::vector<Seconds>& v) {
  std::vector<double> ms;
  ms.reserve(v.size());
  for (const Seconds& d : v) ms.push_back(d.count() * 1e3);
  return bench::percentiles(std::move(ms));
}

// The first table whose entries differ between two stores, or nullopt: the
// replayed store must end as ledgerq's did, or the storage-alone rows did
// other work than ledgerq's.
std::optional<std::string> first_difference(storage::Env& a, storage::Env& b) {
  auto ra = a.begin_read();
  auto rb = b.begin_read();
  for (std::size_t i = 0; i < domain::kTableCount; ++i) {
    const auto t = static_cast<domain::Table>(i);
    std::vector<domain::Entry> ea, eb;
    ra.scan(t, "", [&](std::string_view k, std::string_view v) { return ea.emplace_back(k, v), true; });
    rb.scan(t, "", [&](std::string_view k, std::string_view v) { return eb.emplace_back(k, v), true; });
    if (ea != eb) return domain::table_name(t);
  }
  return std::nullopt;
}

double per_job(std::uint64_t bytes, std::size_t jobs) { return jobs ? static_cast<double>(bytes) / static_cast<double>(jobs) : 0; }

double rate(std::size_t n, Seconds spent) { return static_cast<double>(n) / spent.count(); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ledgerq-core-bench: the broker's per-command CPU, no sockets"};
  app.set_version_flag("--version", std::string("ledgerq-core-bench ") + LEDGERQ_RELEASE);
  std::size_t jobs = 100'000, turn_size = 256;
  std::uint32_t batch = 64;
  std::string sync = "none";
  app.add_option("--jobs", jobs, "Jobs submitted, then dequeued and acked");
  app.add_option("--turn", turn_size, "Submits per write transaction");
  app.add_option("--batch", batch, "Jobs per dequeue (the previous batch's acks ride with it)");
  std::size_t cycle_turn = 64;
  app.add_option("--cycle-turn", cycle_turn, "Full cycle row: submits per transaction, beside 4 dequeues of a quarter as many")
      ->check(CLI::Range(4, 100'000));
  app.add_option("--sync", sync, "LMDB sync mode")->check(CLI::IsMember({"none", "full"}));
  std::string keep;
  app.add_option("--keep", keep, "Store in this new directory and leave it there (for mdb_stat)");
  bool storage_alone = false;
  app.add_flag("--storage-alone", storage_alone, "Also time each row's storage work alone, replayed");
  CLI11_PARSE(app, argc, argv);

  const auto mode = sync == "full" ? storage::SyncMode::full : storage::SyncMode::none;
  constexpr std::size_t kMap = std::size_t{8} << 30;
  tools::TempDir dir, record_dir, replay_dir;
  if (!keep.empty()) std::filesystem::create_directory(keep);  // throws if it exists: never reuse a store
  storage::Env env({.dir = keep.empty() ? dir.path() : std::filesystem::path(keep), .map_size = kMap, .sync = mode});
  Core core{env};
  Sides sides{core};
  std::optional<storage::Env> record_env, replay_env;
  std::optional<Core> recorder;
  if (storage_alone) {
    record_env.emplace(storage::EnvOptions{.dir = record_dir.path(), .map_size = kMap, .sync = storage::SyncMode::none});
    replay_env.emplace(storage::EnvOptions{.dir = replay_dir.path(), .map_size = kMap, .sync = mode});
    recorder.emplace(Core{*record_env});
    sides.recorder = &*recorder;
    sides.replay = &*replay_env;
  }
  sides.turn({request_bytes(1, cmd::DsCreate{kDatasource, std::nullopt})});
  sides.reset();

  const Any body = body100();
  std::uint64_t rid = 2;
  std::vector<std::string> reqs;
  for (std::size_t i = 0; i < jobs;) {
    reqs.clear();
    for (std::size_t k = 0; k < turn_size && i < jobs; ++k, ++i)
      reqs.push_back(request_bytes(rid++, cmd::Submit{kDatasource, "job-" + std::to_string(i),
                                                      "client-" + std::to_string(i % 4), body, std::nullopt}));
    sides.turn(reqs);
  }
  const double submit_rate = rate(jobs, sides.ledgerq);
  const double submit_storage = rate(jobs, sides.storage);
  const double submit_bytes = per_job(sides.ledgerq_bytes, jobs);

  // One turn of `reqs` (what the caller put there) and 4 workers'
  // dequeue(limit), each carrying its previous batch's acks; returns how
  // many jobs came.
  std::vector<std::vector<cmd::AckItem>> acks(4);
  auto dequeue_turn = [&](std::uint32_t limit) {
    for (std::size_t w = 0; w < acks.size(); ++w) {
      cmd::Dequeue d;
      d.datasource = kDatasource;
      d.worker = "w" + std::to_string(w);
      d.limit = limit;
      d.acks = std::move(acks[w]);
      reqs.push_back(request_bytes(rid++, d));
    }
    const auto replies = sides.turn(reqs);
    std::size_t got = 0;
    for (std::size_t w = 0; w < acks.size(); ++w) {
      const auto& r = replies[replies.size() - acks.size() + w];
      acks[w].clear();
      for (const auto& j : std::get<reply::Dequeue>(r.body).jobs)
        acks[w].push_back(cmd::AckItem{j.state.job, j.state.token, "success", std::nullopt, std::nullopt,
                                       std::nullopt, ""});
      got += acks[w].size();
    }
    return got;
  };

  // Dequeue + ack of the jobs submitted above.
  sides.reset();
  std::size_t taken = 0;
  for (;;) {
    reqs.clear();
    const std::size_t got = dequeue_turn(batch);
    taken += got;
    if (got == 0) break;
  }
  const double cycle_rate = rate(taken, sides.ledgerq);
  const double cycle_storage = rate(taken, sides.storage);
  const double cycle_bytes = per_job(sides.ledgerq_bytes, taken);

  // The full cycle in each transaction, as ledgerq-bench's cycle rows run
  // it: new submits beside the dequeues that take and ack earlier ones.
  sides.reset();
  std::size_t done = 0;
  for (std::size_t i = 0;;) {
    reqs.clear();
    for (std::size_t k = 0; k < cycle_turn && i < jobs; ++k, ++i)
      reqs.push_back(request_bytes(rid++, cmd::Submit{kDatasource, "cycle-" + std::to_string(i),
                                                      "client-" + std::to_string(i % 4), body, std::nullopt}));
    const std::size_t got = dequeue_turn(static_cast<std::uint32_t>(cycle_turn / 4));
    done += got;
    if (got == 0 && i == jobs) break;
  }
  const double full_rate = rate(done, sides.ledgerq);
  const double full_storage = rate(done, sides.storage);
  const double full_bytes = per_job(sides.ledgerq_bytes, done);

  // Lone jobs, as ledgerq-bench's latency row runs them: a worker's
  // dequeue(1), carrying the previous job's ack, finds nothing; then a
  // submit arrives and the parked dequeue runs again in the same turn
  // (server.cpp). That second turn is what a job waits for, so it is timed
  // alone, and beside it a 1-record commit on a store of its own: the
  // least a durable turn can cost on this disk at that moment.
  tools::TempDir floor_dir;
  storage::Env floor_env({.dir = floor_dir.path(), .map_size = kMap, .sync = mode});
  Sides::Samples lone;
  std::vector<Seconds> one_record;
  const std::size_t lone_jobs = std::min<std::size_t>(jobs, 1000);
  std::vector<cmd::AckItem> prev;
  for (std::size_t i = 0; i < lone_jobs; ++i) {
    cmd::Dequeue d;
    d.datasource = kDatasource;
    d.worker = "w0";
    d.limit = 1;
    d.acks = std::move(prev);
    sides.turn({request_bytes(rid++, d)});
    d.acks.clear();
    sides.lone = &lone;
    const auto replies = sides.turn({request_bytes(rid++, cmd::Submit{kDatasource, "lone-" + std::to_string(i),
                                                                      "client-0", body, std::nullopt}),
                                     request_bytes(rid++, d)});
    sides.lone = nullptr;
    prev.clear();
    for (const auto& j : std::get<reply::Dequeue>(replies[1].body).jobs)
      prev.push_back(cmd::AckItem{j.state.job, j.state.token, "success", std::nullopt, std::nullopt, std::nullopt, ""});
    if (prev.size() != 1) throw std::runtime_error("the woken dequeue took no job");
    const auto t0 = Clock::now();
    auto txn = floor_env.begin_write();
    txn.append(domain::Table::log, domain::be64(i + 1), std::string(100, 'x'));
    txn.commit();
    one_record.push_back(Clock::now() - t0);
  }
  // Figures of one row's storage work alone, and ledgerq's share beside it.
  auto alone = [&](double lq_rate, double st_rate) {
    if (!storage_alone) return;
    std::printf("  storage alone: the same reads, writes and commits   %10.0f jobs/s  (%.2f us each; ledgerq's turns take %.2fx as long)\n",
                st_rate, 1e6 / st_rate, st_rate / lq_rate);
  };

  std::printf("ledgerq-core-bench  %zu jobs, 100-byte bodies, --sync %s, one thread, no sockets\n", jobs, sync.c_str());
  std::printf("submit, %zu per transaction             %10.0f jobs/s  (%.2f us each, %.0f bytes written)\n",
              turn_size, submit_rate, 1e6 / submit_rate, submit_bytes);
  alone(submit_rate, submit_storage);
  std::printf("dequeue(%u) + acks, 4 per transaction    %10.0f jobs/s  (%.2f us each, %.0f bytes written)\n", batch,
              cycle_rate, 1e6 / cycle_rate, cycle_bytes);
  alone(cycle_rate, cycle_storage);
  std::printf("cycle: %zu submits + 4 dequeue(%zu) + acks per transaction %6.0f jobs/s  (%.2f us each, %.0f bytes written)\n",
              cycle_turn, cycle_turn / 4, full_rate, 1e6 / full_rate, full_bytes);
  alone(full_rate, full_storage);
  const bench::Latency lone_lq = latency_of(lone.ledgerq), lone_st = latency_of(lone.storage),
                       floor = latency_of(one_record);
  std::printf("lone job: a submit and the dequeue it wakes, %zu turns  p50 %.3f ms  p99 %.3f ms\n", lone_jobs,
              lone_lq.p50_ms, lone_lq.p99_ms);
  if (storage_alone)
    std::printf("  storage alone: the same reads, writes and commits   p50 %.3f ms  p99 %.3f ms\n", lone_st.p50_ms,
                lone_st.p99_ms);
  std::printf("  beside it, a 1-record commit                          p50 %.3f ms  p99 %.3f ms\n", floor.p50_ms,
              floor.p99_ms);
  std::printf("(%zu bytes of replies and notices encoded)\n", core.out_bytes);
  if (storage_alone) {
    if (auto t = first_difference(env, *replay_env)) {
      std::fprintf(stderr, "ledgerq-core-bench: the replayed store differs from ledgerq's in table %s\n", t->c_str());
      return 1;
    }
    std::printf("(the replayed store ends equal to ledgerq's, table by table)\n");
  }
  return taken == jobs && done == jobs ? 0 : 1;
}
