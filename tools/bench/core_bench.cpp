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
//   ledgerq-core-bench [--jobs N] [--sync none|full] [--turn N] [--keep DIR]
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "broker_process.hpp"  // tools/common: TempDir
#include "codec/codec.hpp"
#include "domain/machine.hpp"
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

struct Core {
  storage::Env& env;
  domain::Runtime runtime;
  Micros now = 1'700'000'000'000'000;
  std::size_t out_bytes = 0;  // keeps the encoders' work observable

  // One turn as the broker runs it: decode, execute, commit, encode.
  std::vector<Reply> turn(const std::vector<std::string>& requests) {
    now += 1000;
    std::vector<Reply> replies;
    std::vector<domain::Notice> notices;
    auto txn = env.begin_write();
    domain::View view(txn);
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

double per_job(std::uint64_t bytes, std::size_t jobs) { return jobs ? static_cast<double>(bytes) / static_cast<double>(jobs) : 0; }

double rate(std::size_t n, Clock::time_point t0) {
  return static_cast<double>(n) / std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ledgerq-core-bench: the broker's per-command CPU, no sockets"};
  std::size_t jobs = 100'000, turn_size = 256;
  std::uint32_t batch = 64;
  std::string sync = "none";
  app.add_option("--jobs", jobs, "Jobs submitted, then dequeued and acked");
  app.add_option("--turn", turn_size, "Submits per write transaction");
  app.add_option("--batch", batch, "Jobs per dequeue (the previous batch's acks ride with it)");
  app.add_option("--sync", sync, "LMDB sync mode")->check(CLI::IsMember({"none", "full"}));
  std::string keep;
  app.add_option("--keep", keep, "Store in this new directory and leave it there (for mdb_stat)");
  CLI11_PARSE(app, argc, argv);

  tools::TempDir dir;
  if (!keep.empty()) std::filesystem::create_directory(keep);  // throws if it exists: never reuse a store
  storage::Env env({keep.empty() ? dir.path() : std::filesystem::path(keep), std::size_t{8} << 30, sync == "full" ? storage::SyncMode::full : storage::SyncMode::none});
  Core core{env};
  core.turn({request_bytes(1, cmd::DsCreate{kDatasource, std::nullopt})});

  const Any body = body100();
  std::uint64_t rid = 2;
  auto t0 = Clock::now();
  std::uint64_t w0 = bytes_written();
  std::vector<std::string> reqs;
  for (std::size_t i = 0; i < jobs;) {
    reqs.clear();
    for (std::size_t k = 0; k < turn_size && i < jobs; ++k, ++i)
      reqs.push_back(request_bytes(rid++, cmd::Submit{kDatasource, "job-" + std::to_string(i),
                                                      "client-" + std::to_string(i % 4), body, std::nullopt}));
    core.turn(reqs);
  }
  const double submit_rate = rate(jobs, t0);
  const double submit_bytes = per_job(bytes_written() - w0, jobs);

  // Dequeue + ack: 4 workers' requests per turn, each carrying its previous batch's acks.
  t0 = Clock::now();
  w0 = bytes_written();
  std::size_t taken = 0;
  std::vector<std::vector<cmd::AckItem>> acks(4);
  for (;;) {
    reqs.clear();
    for (std::size_t w = 0; w < acks.size(); ++w) {
      cmd::Dequeue d;
      d.datasource = kDatasource;
      d.worker = "w" + std::to_string(w);
      d.limit = batch;
      d.acks = std::move(acks[w]);
      reqs.push_back(request_bytes(rid++, d));
    }
    const auto replies = core.turn(reqs);
    std::size_t got = 0;
    for (std::size_t w = 0; w < replies.size(); ++w) {
      acks[w].clear();
      for (const auto& j : std::get<reply::Dequeue>(replies[w].body).jobs)
        acks[w].push_back(cmd::AckItem{j.state.job, j.state.token, "success", std::nullopt, std::nullopt,
                                       std::nullopt, ""});
      got += acks[w].size();
    }
    taken += got;
    if (got == 0) break;
  }
  const double cycle_rate = rate(taken, t0);
  const double cycle_bytes = per_job(bytes_written() - w0, taken);

  std::printf("ledgerq-core-bench  %zu jobs, 100-byte bodies, --sync %s, one thread, no sockets\n", jobs, sync.c_str());
  std::printf("submit, %zu per transaction             %10.0f jobs/s  (%.2f us each, %.0f bytes written)\n",
              turn_size, submit_rate, 1e6 / submit_rate, submit_bytes);
  std::printf("dequeue(%u) + acks, 4 per transaction    %10.0f jobs/s  (%.2f us each, %.0f bytes written)\n", batch,
              cycle_rate, 1e6 / cycle_rate, cycle_bytes);
  std::printf("(%zu bytes of replies and notices encoded)\n", core.out_bytes);
  return taken == jobs ? 0 : 1;
}
