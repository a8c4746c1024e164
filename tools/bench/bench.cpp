// ledgerq-bench: starts its own brokers (temporary data directories,
// ephemeral loopback ports), drives them through libclient and prints one
// table. Today's scenario is the backlog one (issue 3): does a dequeue cost
// the same with a million jobs waiting as with ten? Everything is measured
// side by side in one run, and read as ratios.
//
//   ledgerq-bench [--backlog N] [--small N] [--cycles N] [--sync full|none]
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <ledgerq/ledgerq.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "broker_process.hpp"  // tools/common

namespace lq = ledgerq::client;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Resident memory of a process, and the part of it that is the LMDB map
// (pages of data.mdb): the rest is the broker's own heap and stacks.
struct Memory {
  double rss_mib = 0, peak_mib = 0, map_mib = 0;
};

Memory memory_of(pid_t pid) {
  Memory m;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    std::istringstream s(line);
    std::string key;
    double kib = 0;
    s >> key >> kib;
    if (key == "VmRSS:") m.rss_mib = kib / 1024;
    if (key == "VmHWM:") m.peak_mib = kib / 1024;
  }
  std::ifstream smaps("/proc/" + std::to_string(pid) + "/smaps");
  bool in_map = false;
  for (std::string line; std::getline(smaps, line);) {
    if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) && line.find('-') < 17) {
      in_map = line.ends_with("data.mdb");
    } else if (in_map && line.starts_with("Rss:")) {
      std::istringstream s(line.substr(4));
      double kib = 0;
      s >> kib;
      m.map_mib += kib / 1024;
    }
  }
  return m;
}

struct Row {
  std::string what, unit;
  double small = 0, large = 0;
};

struct Run {
  double fill_rate = 0;     // jobs submitted per second while filling
  double cycle1_rate = 0;   // dequeue(1) + piggybacked ack, jobs per second
  double cycle100_rate = 0; // dequeue(100) + 100 piggybacked acks, jobs per second
  double restart_s = 0;     // SIGTERM to ready again, with the backlog
  Memory memory;
};

// Fills a fresh broker with `backlog` jobs, then measures dequeue+ack.
Run measure(const std::string& broker_path, const fs::path& dir, std::size_t backlog, std::size_t cycles,
            const std::string& sync) {
  using ledgerq::tools::BrokerProcess;
  Run r;
  const std::vector<std::string> flags = {"--sync", sync, "--map-size", "16GiB"};
  auto broker = std::make_unique<BrokerProcess>(broker_path, dir, flags);
  lq::DriverOptions dopt;
  dopt.router = broker->router();
  dopt.requests_pub = broker->requests_pub();
  lq::Driver driver(dopt);
  driver.create_datasource("bench");

  lq::ClientOptions copt;
  copt.router = broker->router();
  copt.status_pub = broker->status_pub();
  lq::Client client("bench-client", copt);
  const auto body = lq::Payload::from_bytes(std::string(100, 'x'));
  const std::size_t total = backlog + cycles * 2 + 200;  // the backlog stays >= `backlog` while measuring
  auto t0 = Clock::now();
  std::deque<std::future<std::vector<lq::ItemResult>>> inflight;
  for (std::size_t i = 0; i < total;) {
    std::vector<lq::BatchJob> batch;
    for (; batch.size() < 1000 && i < total; ++i) batch.push_back({"j" + std::to_string(i), body, {}});
    inflight.push_back(client.submit_batch_async("bench", batch));
    if (inflight.size() >= 8) {
      inflight.front().get();
      inflight.pop_front();
    }
  }
  for (auto& f : inflight) f.get();
  r.fill_rate = static_cast<double>(total) / seconds_since(t0);

  lq::WorkerOptions wopt;
  wopt.router = broker->router();
  wopt.requests_pub = broker->requests_pub();
  wopt.name = "bench-worker";
  wopt.watch_cancels = false;
  lq::Worker worker("bench", wopt);
  auto cycle = [&](std::uint32_t limit, std::size_t jobs) {
    std::size_t done = 0;
    auto start = Clock::now();
    while (done < jobs) {
      auto leased = worker.dequeue(limit);  // carries the acks queued by the round before
      if (leased.empty()) throw std::runtime_error("the backlog ran dry");
      for (const auto& j : leased) worker.ack_success_later(j.job);
      done += leased.size();
    }
    worker.flush_acks();
    return static_cast<double>(done) / seconds_since(start);
  };
  r.cycle1_rate = cycle(1, cycles / 10);
  r.cycle100_rate = cycle(100, cycles);
  r.memory = memory_of(broker->pid());

  broker->terminate();
  broker.reset();
  t0 = Clock::now();
  broker = std::make_unique<BrokerProcess>(broker_path, dir, flags);
  r.restart_s = seconds_since(t0);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ledgerq-bench: ledgerq measured side by side in one run"};
  std::size_t backlog = 1'000'000, small = 10, cycles = 20'000;
  std::string sync = "full", broker = LEDGERQ_DEFAULT_BROKER;
  app.add_option("--broker", broker, "The ledgerq-broker to start")->capture_default_str();
  app.add_option("--backlog", backlog, "Jobs waiting in the large run")->capture_default_str();
  app.add_option("--small", small, "Jobs waiting in the small run")->capture_default_str();
  app.add_option("--cycles", cycles, "Jobs dequeued and acked in each run (a tenth of them one at a time)")
      ->capture_default_str();
  app.add_option("--sync", sync, "Broker durability")->check(CLI::IsMember({"full", "meta", "none"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    ledgerq::tools::TempDir tmp;
    std::fprintf(stderr, "filling %zu jobs, then %zu...\n", small, backlog);
    const Run a = measure(broker, tmp.path() / "small", small, cycles, sync);
    const Run b = measure(broker, tmp.path() / "large", backlog, cycles, sync);
    const std::vector<Row> rows = {
        {"submit_batch fill rate", "jobs/s", a.fill_rate, b.fill_rate},
        {"dequeue(1) + ack", "jobs/s", a.cycle1_rate, b.cycle1_rate},
        {"dequeue(100) + 100 acks", "jobs/s", a.cycle100_rate, b.cycle100_rate},
        {"broker RSS", "MiB", a.memory.rss_mib, b.memory.rss_mib},
        {"  of which LMDB map pages", "MiB", a.memory.map_mib, b.memory.map_mib},
        {"  heap (RSS less map)", "MiB", a.memory.rss_mib - a.memory.map_mib, b.memory.rss_mib - b.memory.map_mib},
        {"restart to ready", "s", a.restart_s, b.restart_s},
    };
    std::printf("\nledgerq-bench backlog  (sync=%s, 100-byte bodies, %zu vs %zu jobs waiting)\n\n", sync.c_str(),
                small, backlog);
    std::printf("%-28s %-7s %14s %14s %8s\n", "", "", ("waiting " + std::to_string(small)).c_str(),
                ("waiting " + std::to_string(backlog)).c_str(), "ratio");
    for (const auto& r : rows) {
      const char* fmt = r.unit == "s" ? "%-28s %-7s %14.3f %14.3f %8.2f\n" : "%-28s %-7s %14.1f %14.1f %8.2f\n";
      std::printf(fmt, r.what.c_str(), r.unit.c_str(), r.small, r.large, r.small > 0 ? r.large / r.small : 0.0);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ledgerq-bench: %s\n", e.what());
    return 1;
  }
}
