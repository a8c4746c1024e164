// ledgerq-bench: ledgerq beside beanstalkd and Redis, in one run, on this
// machine. It starts every server itself (temporary directories, free
// loopback ports), drives ledgerq through libclient, beanstalkd through its
// text protocol and Redis through hiredis (a reliable queue: LPUSH, LMOVE
// to a processing list, LREM) with the same workloads and 100-byte bodies,
// and prints one table per durability level with the ratios ledgerq/peer
// per row, each server's CPU time and disk flushes per job, then the
// machine's ceilings (raw LMDB commits, raw appends + fdatasync, raw
// ZeroMQ round trips).
//
//   ledgerq-bench [--sync both|full|meta|none] [--scenarios submit,cycle,latency,backlog,ceilings]
//                 [--seconds S] [--backlog N] [--cycles N] [--rate R] [--quick]
//                 [--repeat N] [--versus OTHER-BROKER [--with-peers]] [--curve] [--beanstalkd PATH]
//                 [--redis PATH]
//
// Matched durability: ledgerq --sync full beside beanstalkd -b DIR -f 0 and
// Redis --appendonly yes --appendfsync always (fsync before answering);
// ledgerq --sync none beside beanstalkd without -b and Redis without AOF.
// With --versus, the only other column is another ledgerq-broker (an A/B
// of two builds; --with-peers keeps beanstalkd's and Redis's columns
// beside them, e.g. for ledgerq-stateless, the protocol with no state);
// with --repeat, each row is measured N times on each
// side, alternating, and the medians are shown. --curve puts the B side
// (--versus, or the same broker) in secure mode: the cost of CURVE, row by
// row.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "broker_process.hpp"  // tools/common: TempDir
#include "scenarios.hpp"

namespace fs = std::filesystem;
using namespace ledgerq::bench;

namespace {

/// What a column measures.
enum class System { ledgerq, versus, beanstalkd, redis };

/// One column of the tables: ledgerq (or A) first, then the others.
struct Column {
  System system;
  const char* name;   ///< its heading
  const char* ratio;  ///< the heading of the first column's ratio to it ("lq/bs")
  const char* tag;    ///< its data directories' prefix
};

/// One row of the table: a value per column. `higher_better` says which
/// way the ratios read; `compare` false leaves them out (a row that is
/// itself a ratio).
struct Row {
  std::string what, unit;
  std::vector<std::optional<double>> v;
  bool higher_better = true;
  bool compare = true;
};

/// Width of the table's first column.
constexpr int kWhatWidth = 46;

std::string number(std::optional<double> v, const std::string& unit) {
  if (!v) return "n/a";
  char buf[32];
  if (unit == "s" || unit == "ms")
    std::snprintf(buf, sizeof buf, "%.3f", *v);
  else if (unit == "ratio")
    std::snprintf(buf, sizeof buf, "%.2f", *v);
  else
    std::snprintf(buf, sizeof buf, "%.1f", *v);
  return buf;
}

/// printf into a line of its own.
template <class... Args> void append(std::string& line, const char* format, Args... args) {
  char buf[128];
  std::snprintf(buf, sizeof buf, format, args...);
  line += buf;
}

/// Prints `line` without its trailing blanks.
void put_line(std::string line) {
  line.erase(line.find_last_not_of(' ') + 1);
  std::printf("%s\n", line.c_str());
}

void print_table(const std::string& title, const std::vector<Row>& rows, const std::vector<Column>& cols) {
  std::printf("\n%s\n\n", title.c_str());
  std::string head;
  append(head, "%-*s %-7s", kWhatWidth, "", "");
  for (const auto& c : cols) append(head, " %12s", c.name);
  for (std::size_t k = 1; k < cols.size(); ++k) append(head, " %7s  %-10s", cols[k].ratio, "better");
  put_line(head);
  for (const auto& r : rows) {
    std::string line;
    append(line, "%-*s %-7s", kWhatWidth, r.what.c_str(), r.unit.c_str());
    for (std::size_t k = 0; k < cols.size(); ++k)
      append(line, " %12s", number(k < r.v.size() ? r.v[k] : std::nullopt, r.unit).c_str());
    for (std::size_t k = 1; k < cols.size(); ++k) {
      std::string ratio, better;
      const auto& a = r.v[0];
      const auto& b = k < r.v.size() ? r.v[k] : std::nullopt;
      if (r.compare && a && b && *b > 0) {
        const double q = *a / *b;
        char buf[16];
        std::snprintf(buf, sizeof buf, q < 0.1 ? "%.3f" : "%.2f", q);
        ratio = buf;
        const double good = r.higher_better ? q : 1 / q;
        better = good > 1.05 ? cols[0].name : good < 1 / 1.05 ? cols[k].name : "~same";
      }
      append(line, " %7s  %-10s", ratio.c_str(), better.c_str());
    }
    put_line(line);
  }
  std::fflush(stdout);
}

/// Each throughput row's server costs, a ServerCost per column.
struct CostRow {
  std::string what;
  std::vector<ServerCost> costs;
};

void print_costs(const std::vector<CostRow>& rows, const std::vector<Column>& cols, const std::string& disk,
                 int repeat) {
  std::printf("\n  per job, each server's own (submit rows: per job submitted; cycle rows: per job completed%s):\n"
              "  CPU time, user + system, from /proc/PID/stat in 10 ms ticks; flushes completed by the disk\n"
              "  holding the data, %s (/sys/dev/block: the whole disk's count, another writer's fsyncs too)\n",
              repeat > 1 ? "; medians" : "", disk.c_str());
  std::printf("    %-*s", kWhatWidth - 4, "");
  for (const auto& c : cols) std::printf(" %19s", c.name);
  std::printf("\n    %-*s", kWhatWidth - 4, "");
  for (std::size_t k = 0; k < cols.size(); ++k) std::printf(" %9s %9s", "CPU us", "flushes");
  std::printf("\n");
  for (const auto& r : rows) {
    std::printf("    %-*s", kWhatWidth - 4, r.what.c_str());
    for (const auto& c : r.costs) {
      char flushes[16] = "n/a";
      if (c.flushes)
        std::snprintf(flushes, sizeof flushes, *c.flushes == 0 ? "0" : *c.flushes < 0.1 ? "%.4f" : "%.2f", *c.flushes);
      std::printf(" %9.1f %9s", c.cpu_us, flushes);
    }
    std::printf("\n");
  }
}

struct Options {
  std::string broker, beanstalkd, redis;
  std::string versus;  ///< another ledgerq-broker in the peers' place
  bool curve = false;  ///< the --versus side in secure mode (CURVE and principals)
  bool with_peers = false;  ///< --versus, and the peers' columns too
  int repeat = 1;      ///< measurements of each row on each side, alternating
  std::set<std::string> scenarios;
  Limits limits;
  double latency_seconds = 5, rate = 200;
  std::size_t backlog = 1'000'000, cycles = 20'000;
  std::size_t soak_jobs = 10'000'000;
  int soak_samples = 20;
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/// Each percentile's median over repeated latency measurements.
Latency median_of(const std::vector<Latency>& ls) {
  Latency out;
  for (double Latency::*f : {&Latency::p50_ms, &Latency::p99_ms, &Latency::p999_ms}) {
    std::vector<double> v;
    for (const auto& l : ls) v.push_back(l.*f);
    out.*f = median(v);
  }
  for (const auto& l : ls) out.samples = std::max(out.samples, l.samples);
  return out;
}

/// The rate's and each cost's median over repeated measurements.
Throughput median_of(const std::vector<Throughput>& ts) {
  std::vector<double> rates, cpu, flushes;
  for (const auto& t : ts) {
    rates.push_back(t.rate);
    cpu.push_back(t.cost.cpu_us);
    if (t.cost.flushes) flushes.push_back(*t.cost.flushes);
  }
  Throughput out{median(rates), {median(cpu), std::nullopt}};
  if (!flushes.empty()) out.cost.flushes = median(flushes);
  return out;
}

/// Figures of one durability level that the ceilings section refers to.
struct Headline {
  std::vector<Column> cols;
  std::vector<std::optional<double>> submit1;  ///< submit 1 at a time, jobs/s, per column
};

/// The columns of a run: ledgerq and the peers found, or A and B
/// (--versus), and then the peers found only --with-peers.
std::vector<Column> columns_of(const Options& o) {
  const bool versus = !o.versus.empty();
  std::vector<Column> cols = {{System::ledgerq, versus ? "A" : "ledgerq", "", versus ? "a" : "lq"}};
  if (versus) cols.push_back({System::versus, "B", "A/B", "b"});
  if (versus && !o.with_peers) return cols;
  if (!o.beanstalkd.empty()) cols.push_back({System::beanstalkd, "beanstalkd", versus ? "A/bs" : "lq/bs", "bs"});
  if (!o.redis.empty()) cols.push_back({System::redis, "Redis", versus ? "A/rd" : "lq/rd", "rd"});
  return cols;
}

/// The notes under a table: how each system was driven, and what is left out.
void print_notes(const Options& o, const std::vector<Column>& cols, bool durable) {
  auto has = [&](System s) {
    return std::any_of(cols.begin(), cols.end(), [&](const Column& c) { return c.system == s; });
  };
  const bool versus = has(System::versus), bs = has(System::beanstalkd), rd = has(System::redis);
  if (o.repeat > 1 && (o.scenarios.count("submit") || o.scenarios.count("cycle") || o.scenarios.count("latency")))
    std::printf("  submit, cycle and latency rows: %d measurements of each side, alternating; medians.\n", o.repeat);
  if (rd)
    std::printf("  Redis as a reliable queue: LPUSH to submit; a worker takes with LMOVE (BLMOVE to wait) from the\n"
                "  queue's right to the left of its own processing list, and acks with LREM of the body from that\n"
                "  list's tail (-1: the oldest are there); every body is unique. One hiredis connection per thread,\n"
                "  pipelined as the beanstalkd side is.\n");
  if (o.scenarios.count("cycle") && !versus) {
    std::printf("  cycle, N per trip (no side polls): ledgerq dequeue(N, wait 200 ms) carrying the previous "
                "round's acks");
    if (bs)
      std::printf(";\n  beanstalkd the previous round's deletes and N reserve-with-timeout 0 in one write, then one\n"
                  "  reserve-with-timeout 1 if none came (N = 1: one reserve-with-timeout 1)");
    if (rd)
      std::printf(";\n  Redis the previous round's LREMs and N LMOVE in one write, then one BLMOVE waiting 0.2 s if "
                  "none\n  came (N = 1: one BLMOVE)");
    std::printf(".\n");
  }
  if (o.scenarios.count("backlog")) {
    std::printf("  fill: ledgerq submit_batch of 1000 jobs (8 in flight)%s%s.\n",
                bs ? "; beanstalkd 1000 pipelined puts" : "", rd ? ";\n  Redis LPUSH of 1000 bodies (8 in flight)" : "");
    if (bs)
      std::printf("  dequeue(N) in beanstalkd: N reserve-with-timeout 0 and the previous round's N deletes, in one "
                  "write.\n");
    if (rd) std::printf("  dequeue(N) in Redis: N LMOVE and the previous round's N LREMs, in one write.\n");
    std::printf("  near-empty queue: the same rows on a fresh server holding only the %zu jobs they may take.\n",
                backlog_taken(o.cycles));
    std::printf("  dequeue rows: %zu rounds alternating near-empty and backlog servers, each first in turn; medians,\n"
                "  and the median of the rounds' ratios.\n",
                kBacklogRounds);
    if (durable && bs)
      std::printf("  (*) beanstalkd -f 0 fsyncs every put: its fill rate is measured for %.1f s, the rest is put "
                  "with -f 1000.\n",
                  o.limits.seconds);
    if (!durable && bs) std::printf("  beanstalkd without -b keeps nothing across a restart: n/a.\n");
    if (!durable && rd) std::printf("  Redis without AOF keeps nothing across a restart: n/a.\n");
  }
  if ((!versus || o.with_peers) && o.beanstalkd.empty())
    std::printf("  no beanstalkd (none found, or --beanstalkd empty): its column is left out (tools/dev.sh "
                "installs it).\n");
  if ((!versus || o.with_peers) && o.redis.empty())
    std::printf("  no redis-server (none found, or --redis empty): its column is left out (tools/dev.sh "
                "installs it).\n");
}

Headline run_level(const Options& o, const std::string& sync, const fs::path& tmp) {
  const bool durable = sync != "none";
  LedgerqConfig lq{o.broker, {"--sync", sync, "--map-size", "16GiB"}};
  LedgerqConfig vs{o.versus, lq.flags, o.curve};
  BeanstalkConfig bs{o.beanstalkd, durable};
  RedisConfig rd{o.redis, durable};
  const bool versus = !o.versus.empty();
  const std::vector<Column> cols = columns_of(o);
  int run = 0;
  auto dir = [&](const Column& c) { return tmp / (sync + "-" + c.tag + std::to_string(++run)); };
  // ledgerq's broker, row by row (with --versus, B's rows too)
  std::vector<std::pair<std::string, BrokerShare>> shares;
  std::optional<Latency> raw_latency;  // the latency row without libclient
  // A row: o.repeat measurements of each column, alternating (A B C A B C
  // ...) so that a slow stretch of the machine falls on all; medians.
  // `measure(system, dir, share)` runs one; `share` is where ledgerq's
  // BrokerShare goes, one per ledgerq column (the last run's).
  auto each = [&](const std::string& what, auto measure) {
    using Result = decltype(measure(System::ledgerq, fs::path(), static_cast<BrokerShare*>(nullptr)));
    std::vector<std::vector<Result>> runs(cols.size());
    BrokerShare share, share_b;
    for (int i = 0; i < o.repeat; ++i)
      for (std::size_t k = 0; k < cols.size(); ++k)
        runs[k].push_back(measure(cols[k].system, dir(cols[k]), cols[k].system == System::versus ? &share_b : &share));
    shares.emplace_back(what, share);
    if (versus) shares.emplace_back("  the same, B", share_b);
    std::vector<Result> out;
    for (const auto& r : runs) out.push_back(median_of(r));
    return out;
  };
  std::vector<Row> rows;
  std::vector<CostRow> costs;
  Headline h{cols, {}};
  auto step = [&](const std::string& what) { std::fprintf(stderr, "[%s] %s...\n", sync.c_str(), what.c_str()); };
  // A throughput row and its costs.
  auto throughput_row = [&](const std::string& what, auto measure) {
    step(what);
    const std::vector<Throughput> t = each(what, measure);
    Row row{what, "jobs/s", {}};
    CostRow cost{what, {}};
    for (const auto& x : t) {
      row.v.push_back(x.rate);
      cost.costs.push_back(x.cost);
    }
    rows.push_back(row);
    costs.push_back(cost);
    return row.v;
  };
  auto unknown = [] { return std::logic_error("ledgerq-bench: a column of no known system"); };

  if (o.scenarios.count("submit")) {
    struct Shape {
      const char* what;
      int producers, inflight;
    };
    for (Shape s : {Shape{"submit: 1 producer, 1 at a time", 1, 1}, Shape{"submit: 1 producer, 64 in flight", 1, 64},
                    Shape{"submit: 4 producers, 64 in flight each", 4, 64}}) {
      auto v = throughput_row(s.what, [&](System sys, const fs::path& d, BrokerShare* sh) -> Throughput {
        switch (sys) {
          case System::ledgerq: return ledgerq_submit_rate(lq, d, s.producers, s.inflight, o.limits, sh);
          case System::versus: return ledgerq_submit_rate(vs, d, s.producers, s.inflight, o.limits, sh);
          case System::beanstalkd: return beanstalk_submit_rate(bs, d, s.producers, s.inflight, o.limits);
          case System::redis: return redis_submit_rate(rd, d, s.producers, s.inflight, o.limits);
        }
        throw unknown();
      });
      if (s.producers == 1 && s.inflight == 1) h.submit1 = v;
    }
  }
  if (o.scenarios.count("cycle")) {
    // One job per round trip, then up to kCycleBatch: what batching the
    // workers' side buys each system, producers and workers unchanged.
    for (int batch : {1, kCycleBatch}) {
      const std::string what = "cycle: 2 producers, 4 workers, " + std::to_string(batch) + " per trip";
      throughput_row(what, [&](System sys, const fs::path& d, BrokerShare* sh) -> Throughput {
        switch (sys) {
          case System::ledgerq: return ledgerq_cycle_rate(lq, d, 2, 4, batch, o.limits, sh);
          case System::versus: return ledgerq_cycle_rate(vs, d, 2, 4, batch, o.limits, sh);
          case System::beanstalkd: return beanstalk_cycle_rate(bs, d, 2, 4, batch, o.limits);
          case System::redis: return redis_cycle_rate(rd, d, 2, 4, batch, o.limits);
        }
        throw unknown();
      });
    }
  }
  if (o.scenarios.count("latency")) {
    step("latency");
    const Limits l{o.latency_seconds, o.limits.max_jobs};
    const std::vector<Latency> lat = each("latency", [&](System sys, const fs::path& d, BrokerShare* sh) -> Latency {
      switch (sys) {
        case System::ledgerq: return ledgerq_latency(lq, d, o.rate, l, sh);
        case System::versus: return ledgerq_latency(vs, d, o.rate, l, sh);
        case System::beanstalkd: return beanstalk_latency(bs, d, o.rate, l);
        case System::redis: return redis_latency(rd, d, o.rate, l);
      }
      throw unknown();
    });
    auto row = [&](std::string what, double Latency::*f) {
      Row r{std::move(what), "ms", {}, false};
      for (const auto& x : lat) r.v.push_back(x.*f);
      rows.push_back(r);
    };
    char what[64];
    std::snprintf(what, sizeof what, "latency at %.0f jobs/s (%zu): p50", o.rate, lat[0].samples);
    row(what, &Latency::p50_ms);
    row("  p99", &Latency::p99_ms);
    row("  p99.9", &Latency::p999_ms);
    // ledgerq without libclient: what its own hops add (after the rows
    // above, not alternated with them).
    if (cols[0].system == System::ledgerq && o.versus.empty()) {
      std::vector<Latency> raw;
      for (int i = 0; i < o.repeat; ++i)
        raw.push_back(ledgerq_latency_raw(lq, tmp / (sync + "-lq-raw" + std::to_string(++run)), o.rate, l));
      raw_latency = median_of(raw);
    }
  }
  if (o.scenarios.count("backlog")) {
    // Once per column (not repeated), never with --versus (main refuses it).
    step("backlog");
    std::vector<Backlog> b;
    for (const auto& c : cols) {
      switch (c.system) {
        case System::ledgerq: b.push_back(ledgerq_backlog(lq, dir(c), o.backlog, o.cycles, o.limits)); break;
        case System::beanstalkd: b.push_back(beanstalk_backlog(bs, dir(c), o.backlog, o.cycles, o.limits)); break;
        case System::redis: b.push_back(redis_backlog(rd, dir(c), o.backlog, o.cycles, o.limits)); break;
        case System::versus: throw unknown();
      }
    }
    auto row = [&](std::string what, const char* unit, auto f, bool higher_better = true, bool compare = true) {
      Row r{std::move(what), unit, {}, higher_better, compare};
      for (const auto& x : b) r.v.push_back(f(x));
      rows.push_back(r);
    };
    const bool starred = durable && std::any_of(cols.begin(), cols.end(), [](const Column& c) {
      return c.system == System::beanstalkd;
    });
    row("backlog " + std::to_string(o.backlog) + ": fill" + (starred ? " (*)" : ""), "jobs/s",
        [](const Backlog& x) { return x.fill_rate; });
    // Each dequeue row with the backlog, on a near-empty queue, and the
    // ratio of the two (the bar: ledgerq's >= 0.80).
    struct Dequeue {
      const char* what;
      double DequeueRates::*rate;
    };
    const Dequeue dequeues[] = {{"dequeue(1) + ack", &DequeueRates::one},
                                {"dequeue(100) + 100 acks", &DequeueRates::hundred}};
    for (const Dequeue& d : dequeues)
      row(std::string("  ") + d.what, "jobs/s", [&](const Backlog& x) { return x.with_backlog.*d.rate; });
    for (const Dequeue& d : dequeues)
      row(std::string("  near-empty queue: ") + d.what, "jobs/s",
          [&](const Backlog& x) { return x.near_empty.*d.rate; });
    for (const Dequeue& d : dequeues)
      row(std::string("  backlog/near-empty: ") + d.what, "ratio", [&](const Backlog& x) { return x.ratio.*d.rate; },
          true, false);
    row("  server peak RSS", "MiB", [](const Backlog& x) { return x.memory.peak_mib; }, false);
    rows.push_back({"    ledgerq: of which LMDB map pages", "MiB", {b[0].memory.map_mib}, false});
    rows.push_back({"    ledgerq: heap (RSS less map)", "MiB", {b[0].memory.rss_mib - b[0].memory.map_mib}, false});
    Row restart{"  restart to first answer", "s", {}, false};
    for (const auto& x : b) restart.v.push_back(x.restart_s);
    rows.push_back(restart);
  }

  std::string title;
  for (const auto& c : cols) {
    if (!title.empty()) title += "  |  ";
    switch (c.system) {
      case System::ledgerq: title += versus ? "A: " + o.broker : "ledgerq --sync " + sync; break;
      case System::versus: title += "B: " + o.versus + (o.curve ? " with CURVE" : ""); break;
      case System::beanstalkd: title += durable ? "beanstalkd -b DIR -f 0" : "beanstalkd without -b"; break;
      case System::redis: title += durable ? "Redis appendonly, appendfsync always" : "Redis without AOF"; break;
    }
  }
  title = versus ? "--sync " + sync + "  |  " + title : (durable ? "durable: " : "not durable: ") + title;
  print_table("ledgerq-bench  " + title + "  (100-byte bodies, 127.0.0.1)", rows, cols);
  print_notes(o, cols, durable);
  if (!costs.empty()) print_costs(costs, cols, CostMeter::disk_of(tmp), o.repeat);
  if (!shares.empty()) {
    // What bounds each row, in the broker's own words (stats apply_us and
    // commit_us over the row's wall time): busy applying, waiting on the
    // disk, or neither (idle between requests, or sending replies).
    std::printf("\n  ledgerq's broker during each row: share of the wall time applying requests, committing\n"
                "  them, and the rest; requests per write transaction; microseconds one transaction applied\n"
                "  and committed%s\n",
                o.repeat > 1 ? " (the last of each side's runs, not a median)" : "");
    for (const auto& [what, s] : shares)
      std::printf("    %-*s applying %3.0f%%  committing %3.0f%%  other %3.0f%%  %6.1f per txn  %6.0f + %4.0f us\n",
                  kWhatWidth - 4, what.c_str(), 100 * s.apply, 100 * s.commit,
                  std::max(0.0, 100 * (1 - s.apply - s.commit)), s.requests_per_txn, s.apply_us_per_txn,
                  s.commit_us_per_txn);
  }
  if (raw_latency)
    std::printf("\n  ledgerq's latency without libclient (raw DEALERs, a context each, measured after the rows\n"
                "  above%s): p50 %.3f ms  p99 %.3f ms  p99.9 %.3f ms\n",
                o.repeat > 1 ? ", medians" : "", raw_latency->p50_ms, raw_latency->p99_ms, raw_latency->p999_ms);
  std::fflush(stdout);
  return h;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ledgerq-bench: ledgerq beside beanstalkd and Redis, measured in one run"};
  app.set_version_flag("--version", std::string("ledgerq-bench ") + LEDGERQ_RELEASE);
  Options o;
  o.broker = LEDGERQ_DEFAULT_BROKER;
  o.beanstalkd = find_program("beanstalkd");
  o.redis = find_program("redis-server");
  std::string sync = "both", scenarios = "submit,cycle,latency,backlog,ceilings";
  bool quick = false;
  app.add_option("--broker", o.broker, "The ledgerq-broker to start")->capture_default_str();
  app.add_option("--beanstalkd", o.beanstalkd, "The beanstalkd to start (empty: no beanstalkd column)")
      ->capture_default_str();
  app.add_option("--redis", o.redis, "The redis-server to start (empty: no Redis column)")->capture_default_str();
  app.add_option("--sync", sync, "ledgerq durability: both = full and none (each beside its peers' match)")
      ->check(CLI::IsMember({"both", "full", "meta", "none"}))
      ->capture_default_str();
  app.add_option("--scenarios", scenarios,
                 "Comma-separated: submit,cycle,latency,backlog,ceilings; or soak alone (ledgerq only, with its "
                 "default retention: the store's use over --soak-jobs jobs)")
      ->capture_default_str();
  app.add_option("--soak-jobs", o.soak_jobs, "Jobs through the soak")->capture_default_str();
  app.add_option("--soak-samples", o.soak_samples, "Lines the soak prints, evenly through it")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--seconds", o.limits.seconds, "Wall-clock bound of each measurement")->capture_default_str();
  app.add_option("--max-jobs", o.limits.max_jobs, "Job-count bound of each measurement")->capture_default_str();
  app.add_option("--backlog", o.backlog, "Jobs waiting in the backlog scenario")->capture_default_str();
  app.add_option("--cycles", o.cycles,
                 "Jobs dequeued and acked with the backlog, and on a near-empty queue (a tenth one at a time)")
      ->capture_default_str();
  app.add_option("--rate", o.rate, "Offered load of the latency scenario, jobs/s")->capture_default_str();
  app.add_option("--latency-seconds", o.latency_seconds, "How long the latency scenario offers its load")
      ->capture_default_str();
  app.add_flag("--quick", quick, "Tiny sizes and short bounds: checks that everything runs, measures little");
  app.add_option("--repeat", o.repeat, "Measurements of each row on each side, alternating; the table shows medians")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--versus", o.versus,
                 "Another ledgerq-broker to measure in the peers' place, row by row (an A/B of two builds; "
                 "not with the backlog scenario, so pass --scenarios without it)");
  app.add_flag("--with-peers", o.with_peers,
               "With --versus: beanstalkd's and Redis's columns too, beside A and B");
  app.add_flag("--curve", o.curve,
               "What CURVE costs: the B column is the broker (or --versus) in secure mode, every peer with keys");
  CLI11_PARSE(app, argc, argv);
  if (o.curve && o.versus.empty()) o.versus = o.broker;
  if (quick) {
    o.limits.seconds = 0.3;
    o.latency_seconds = 0.5;
    o.backlog = std::min<std::size_t>(o.backlog, 2000);
    o.cycles = std::min<std::size_t>(o.cycles, 500);
  }
  std::stringstream list(scenarios);
  for (std::string s; std::getline(list, s, ',');) {
    if (!std::set<std::string>{"submit", "cycle", "latency", "backlog", "ceilings", "soak"}.count(s)) {
      std::fprintf(stderr, "ledgerq-bench: unknown scenario '%s'\n", s.c_str());
      return 2;
    }
    o.scenarios.insert(s);
  }
  if (!o.versus.empty() && o.scenarios.count("backlog")) {
    std::fprintf(stderr,
                 "ledgerq-bench: --versus does not run the backlog scenario, which the default --scenarios "
                 "includes; pass e.g. --scenarios submit,cycle,latency,ceilings\n");
    return 2;
  }
  for (const auto& [flag, path] : {std::pair<const char*, std::string>{"--broker", o.broker}, {"--versus", o.versus},
                                   {"--beanstalkd", o.beanstalkd}, {"--redis", o.redis}}) {
    if (path.empty() && std::string(flag) != "--broker") continue;
    if (::access(path.c_str(), X_OK) != 0) {
      std::fprintf(stderr, "ledgerq-bench: %s %s: not an executable file (give its path)\n", flag, path.c_str());
      return 2;
    }
  }

  if (o.scenarios.count("soak") && o.scenarios.size() > 1) {
    std::fprintf(stderr, "ledgerq-bench: the soak runs alone: --scenarios soak\n");
    return 2;
  }
  if (quick) o.soak_jobs = std::min<std::size_t>(o.soak_jobs, 20'000);
  try {
    ledgerq::tools::TempDir tmp;
    if (o.scenarios.count("soak")) {
      const std::string level = sync == "both" ? "full" : sync;
      std::printf("soak: %zu jobs, --sync %s, every other flag the broker's default\n\n", o.soak_jobs,
                  level.c_str());
      ledgerq_soak(LedgerqConfig{o.broker, {"--sync", level}}, tmp.path() / "soak", o.soak_jobs, o.soak_samples);
      return 0;
    }
    std::vector<std::string> levels = sync == "both" ? std::vector<std::string>{"full", "none"}
                                                     : std::vector<std::string>{sync};
    // The ceilings are measured first, on a quiet disk: after the backlog
    // scenario the kernel may still be writing back a gigabyte of pages.
    // Printed last.
    std::optional<Ceilings> ceilings;
    if (o.scenarios.count("ceilings")) {
      std::fprintf(stderr, "ceilings...\n");
      Limits l{std::min(o.limits.seconds, 1.0), o.limits.max_jobs};
      ceilings = measure_ceilings(tmp.path() / "ceilings", l, o.rate, Limits{o.latency_seconds, o.limits.max_jobs});
    }
    std::vector<std::pair<std::string, Headline>> heads;
    for (const auto& level : levels) heads.emplace_back(level, run_level(o, level, tmp.path()));

    if (ceilings) {
      const Ceilings& c = *ceilings;
      std::printf("\nmachine ceilings (no ledgerq code; 100-byte records and messages)\n\n");
      std::printf("%-48s %12.1f commits/s  (%.3f ms each)\n", "LMDB, 1 record per transaction, fsync",
                  c.lmdb_sync_commits, 1e3 / c.lmdb_sync_commits);
      std::printf("%-48s %12.1f records/s  (%.1f commits/s)\n", "LMDB, 1000 records per transaction, fsync",
                  c.lmdb_batch_records, c.lmdb_batch_commits);
      std::printf("%-48s %12.1f commits/s\n", "LMDB, 1 record per transaction, MDB_NOSYNC", c.lmdb_nosync_commits);
      std::printf("%-48s %12.1f round trips/s  (%.1f us each)\n", "ZeroMQ DEALER/ROUTER, 1 in flight",
                  c.zmq_round_trips, 1e6 / c.zmq_round_trips);
      std::printf("%-48s %12.1f messages/s\n", "ZeroMQ DEALER/ROUTER, 64 in flight", c.zmq_pipelined);
      std::printf("%-48s %8.3f ms p50  %8.3f ms p99  (%zu)\n", "LMDB 1-record fsync'd commit, latency",
                  c.lmdb_commit.p50_ms, c.lmdb_commit.p99_ms, c.lmdb_commit.samples);
      const std::pair<const char*, const Latency*> relays[] = {
          {"ZeroMQ relay producer->ROUTER->waiting worker", &c.zmq_relay},
          {"  the same, an I/O thread each (3 processes)", &c.zmq_relay_apart},
          {"  the same over plain TCP (no I/O threads)", &c.tcp_relay}};
      for (const auto& [what, l] : relays)
        std::printf("%-48s %8.3f ms p50  %8.3f ms p99  (%zu at %.0f/s)\n", what, l->p50_ms, l->p99_ms, l->samples,
                    o.rate);
      std::printf("%-48s %12.1f appends/s  (%.3f ms p50, %.3f ms p99)\n", "4 KiB append + fdatasync, 1 at a time",
                  c.append_syncs, c.append_sync.p50_ms, c.append_sync.p99_ms);
      auto writes = [](const std::optional<double>& w) {
        char b[64] = "";
        if (w) std::snprintf(b, sizeof b, "  (%.2f disk writes a flush)", *w);
        return std::string(b);
      };
      std::printf("%-48s %8.3f ms p50  %8.3f ms p99%s\n", "4 KiB overwrite + fdatasync, back to back",
                  c.overwrite_sync.p50_ms, c.overwrite_sync.p99_ms, writes(c.overwrite_writes).c_str());
      const std::string paced = "  the same, one every " + std::to_string(static_cast<int>(1e3 / o.rate)) + " ms";
      std::printf("%-48s %8.3f ms p50  %8.3f ms p99%s\n", paced.c_str(), c.overwrite_sync_paced.p50_ms,
                  c.overwrite_sync_paced.p99_ms, writes(c.overwrite_writes_paced).c_str());
      // The least a durable round trip can cost here: one flush of the
      // disk the servers write to, and one request and reply on loopback.
      const double flush_ms = 1e3 / c.append_syncs, zmq_ms = 1e3 / c.zmq_round_trips, floor_ms = flush_ms + zmq_ms;
      std::printf("%-48s %12.3f ms  (%.3f append + fdatasync, %.3f ZeroMQ round trip; means)\n",
                  "one-flush round trip", floor_ms, flush_ms, zmq_ms);
      for (const auto& [level, h] : heads) {
        if (h.submit1.empty() || !h.submit1[0]) continue;
        const bool durable = level != "none";
        const double ceiling = durable ? c.lmdb_sync_commits : c.zmq_round_trips;
        std::printf("%s submit 1 at a time (--sync %s) = %.0f%% of %s\n", h.cols[0].name, level.c_str(),
                    100 * *h.submit1[0] / ceiling, durable ? "LMDB fsync'd commits/s" : "ZeroMQ round trips/s");
        if (!durable) continue;
        std::printf("durable submit 1 at a time (--sync %s), ms per job and times the one-flush round trip:\n",
                    level.c_str());
        for (std::size_t k = 0; k < h.cols.size(); ++k)
          if (h.submit1[k] && *h.submit1[k] > 0)
            std::printf("  %-12s %8.3f ms  %5.2fx\n", h.cols[k].name, 1e3 / *h.submit1[k],
                        1e3 / *h.submit1[k] / floor_ms);
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ledgerq-bench: %s\n", e.what());
    return 1;
  }
}
