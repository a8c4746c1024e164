// ledgerq-replay: prints, follows and verifies a broker's log, reading the
// LMDB environment read-only beside the running broker. Flags and exit
// statuses here; the work is in scan.cpp and verify.cpp. README.md beside
// this file is the manual.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <regex>

#include "domain/view.hpp"
#include "scan.hpp"
#include "storage/lmdb_env.hpp"
#include "codec/time_text.hpp"
#include "verify.hpp"

namespace {

using namespace ledgerq;

/// Exit statuses (README.md lists them for users and scripts).
enum Exit : int {
  kOk = 0,
  kDifferences = 1,  ///< --verify found differences; or undecodable log entries
  kUsage = 2,        ///< bad flags or bad values
  kTrimmed = 3,      ///< --verify: the log was trimmed by retention, nothing to compare
  kNoStore = 4,      ///< the directory is missing, not a ledgerq store, or of another format version
  kFailure = 5,      ///< anything else (an LMDB I/O error, ...)
  kCorrupt = 6,      ///< the store is damaged: empty, truncated, or no valid meta page
};

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop.store(true); }

int fail(int status, const std::string& msg) {
  std::fprintf(stderr, "ledgerq-replay: %s\n", msg.c_str());
  return status;
}

Micros wall_now() {
  using namespace std::chrono;
  return static_cast<Micros>(duration_cast<microseconds>(system_clock::now().time_since_epoch()).count());
}

// A format error's message, with what to do about a newer store.
std::string explain_format(const std::string& what) {
  std::smatch m;
  static const std::regex version("format version ([0-9]+);");
  if (std::regex_search(what, m, version) && std::stoull(m[1]) > storage::kFormatVersion)
    return what + " (a newer ledgerq wrote it: use that release's ledgerq-replay)";
  return what;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "ledgerq-replay: print, follow or verify a ledgerq broker's log, read-only, beside the running broker"};
  app.set_version_flag("--version", std::string("ledgerq-replay ") + LEDGERQ_RELEASE);
  std::string dir = "ledgerq-data";
  std::string from, to, format = "auto", follow_for;
  std::optional<std::uint64_t> count;
  bool follow = false, verify = false, no_progress = false;
  std::size_t max_diffs = 100;
  replay::Filter filter;
  std::vector<std::string> types;

  app.add_option("--data", dir, "The broker's data directory")->capture_default_str();
  auto* o_from = app.add_option("--from", from,
                                "Print entries from this time (inclusive): microseconds since the epoch, "
                                "RFC 3339, 'now', or -5m/-2h/-1d before now. Default: the start of the log");
  auto* o_to = app.add_option("--to", to, "Print entries before this time (exclusive); same forms as --from");
  auto* o_count = app.add_option("-n,--count", count, "Print at most this many entries")->check(CLI::PositiveNumber);
  auto* o_follow = app.add_flag("-f,--follow", follow, "Keep printing new entries as they are committed (tail -f)");
  auto* o_follow_for =
      app.add_option("--follow-for", follow_for, "Follow, and stop after this long (e.g. 30s, 5m)");
  auto* o_ds = app.add_option("-d,--datasource", filter.datasources, "Only entries of this datasource (repeatable)");
  auto* o_client = app.add_option("-c,--client", filter.clients, "Only entries of this client's jobs (repeatable)");
  auto* o_job = app.add_option("-j,--job", filter.jobs, "Only entries of this job id (repeatable)");
  auto* o_type = app.add_option("-t,--type", types,
                                "Only entries of this type (repeatable, or comma-separated): ds_create, "
                                "ds_delete, submit, cancel, status, ds_configure, lease, ack, checkpoint, expire, "
                                "retry, gc, remove, purge")
                     ->delimiter(',');
  auto* o_format = app.add_option("--format", format,
                                  "json (one object per line), text (aligned, for people) or auto: text on a "
                                  "terminal, json otherwise")
                       ->check(CLI::IsMember({"auto", "json", "text"}))
                       ->capture_default_str();
  auto* o_verify = app.add_flag("--verify", verify,
                                "Fold the whole log into a fresh view and report every difference from the "
                                "broker's view");
  app.add_option("--max-diffs", max_diffs, "With --verify: report at most this many differences")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--no-progress", no_progress, "No progress bar on stderr");
  for (auto* o : {o_from, o_to, o_count, o_follow, o_follow_for, o_ds, o_client, o_job, o_type, o_format})
    o_verify->excludes(o);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(kUsage, std::string(e.what()) + "\nRun with --help for the flags.");
  }

  // Values the parser cannot check.
  replay::ScanOptions scan;
  const Micros now = wall_now();
  if (!from.empty()) {
    auto t = codec::parse_time(from, now);
    if (!t) return fail(kUsage, "--from: " + t.error().message);
    scan.from = *t;
  }
  if (!to.empty()) {
    auto t = codec::parse_time(to, now);
    if (!t) return fail(kUsage, "--to: " + t.error().message);
    scan.to = *t;
  }
  if (scan.from >= scan.to && !to.empty())
    return fail(kUsage, "--to (" + codec::format_time(scan.to) + ") must be after --from (" +
                            codec::format_time(scan.from) + ")");
  if (!follow_for.empty()) {
    auto d = codec::parse_duration(follow_for);
    if (!d) return fail(kUsage, "--follow-for: " + d.error().message);
    scan.follow_for = std::chrono::microseconds(*d);
    follow = true;
  }
  for (const auto& t : types) {
    auto e = parse_event_type(t);
    if (!e)
      return fail(kUsage, "--type: no entry type '" + t +
                              "' (ds_create, ds_delete, submit, cancel, status, ds_configure, lease, ack, "
                              "checkpoint, expire, retry, gc, remove, purge)");
    filter.types.push_back(*e);
  }
  scan.count = count;
  scan.follow = follow;

  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return fail(kNoStore, "no such directory: " + dir + " (the broker's --data)");
  if (!fs::is_directory(dir, ec)) return fail(kNoStore, dir + " is not a directory (the broker's --data)");

  // A data.mdb that is not LMDB's, or a damaged one: refuse before LMDB
  // creates a lock file beside it or maps it.
  try {
    storage::check_data_file(fs::path(dir) / "data.mdb");
  } catch (const storage::FormatError& e) {
    return fail(kNoStore, dir + " does not hold a ledgerq store: " + e.what());
  } catch (const storage::CorruptError& e) {
    return fail(kCorrupt, e.what());
  }

  const bool progress_ok = !no_progress && ::isatty(STDERR_FILENO);
  try {
    storage::Env env(storage::EnvOptions{.dir = dir, .read_only = true});
    // Reader slots of readers that died (kill -9) pin old pages; clearing
    // them is safe and helps the broker reuse its file.
    int dead = 0;
    (void)mdb_reader_check(env.raw(), &dead);

    if (verify) {
      replay::VerifyReport report;
      {
        auto txn = env.begin_read();  // one snapshot for both views
        replay::Progress bar(progress_ok, "verifying");
        std::uint64_t total = 0;
        if (auto n = txn.get(domain::Table::meta, "log_entries"); n && n->size() == 8)
          total = domain::from_be64(*n);
        report = replay::verify_store(txn, max_diffs, [&](std::uint64_t done) {
          bar.update(total ? static_cast<double>(done) / static_cast<double>(total) : 0.0, done);
        });
      }
      switch (report.status) {
        case replay::VerifyStatus::ok:
          std::printf("ok: the view equals the fold of the log (%llu entries)\n",
                      static_cast<unsigned long long>(report.events));
          return kOk;
        case replay::VerifyStatus::differences:
          for (const auto& l : report.lines) std::printf("%s\n", l.c_str());
          std::fflush(stdout);
          return fail(kDifferences, std::to_string(report.lines.size()) +
                                        (report.lines.size() >= max_diffs ? " (or more)" : "") +
                                        " difference(s) between the broker's view and the fold of its log");
        case replay::VerifyStatus::trimmed:
          for (const auto& l : report.lines) fail(kTrimmed, "cannot verify: " + l);
          return kTrimmed;
      }
    }

    const replay::Format fmt = format == "json"   ? replay::Format::json
                               : format == "text" ? replay::Format::text
                               : ::isatty(STDOUT_FILENO) ? replay::Format::text
                                                         : replay::Format::json;
    {
      auto txn = env.begin_read();
      const auto bounds = replay::log_bounds(txn);
      if (bounds.trimmed() && scan.from < *bounds.first)
        fail(kOk, "note: the log begins at " + codec::format_time(*bounds.first) +
                      "; earlier entries were trimmed by retention");
    }

    struct sigaction sa{};
    sa.sa_handler = on_signal;  // no SA_RESTART: a signal ends the wait at once
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);

    replay::Matcher matcher(filter);
    replay::Printer printer(fmt, stdout);
    // The bar shares the terminal only with output that goes elsewhere.
    replay::Progress bar(progress_ok && !::isatty(STDOUT_FILENO), "scanning");
    const auto stats = replay::scan_log(env, scan, matcher, printer, bar, g_stop);
    if (stats.undecodable != 0)
      return fail(kDifferences, std::to_string(stats.undecodable) + " log entries could not be decoded");
    return kOk;
  } catch (const storage::FormatError& e) {
    return fail(kNoStore, explain_format(e.what()));
  } catch (const storage::CorruptError& e) {
    return fail(kCorrupt, e.what());
  } catch (const storage::LmdbError& e) {
    if (e.code() == MDB_INVALID || e.code() == MDB_VERSION_MISMATCH)
      return fail(kNoStore, dir + " does not hold a ledgerq store (" + e.what() + ")");
    if (e.code() == EACCES || e.code() == ENOENT || e.code() == EROFS)
      return fail(kNoStore, "cannot open the store in " + dir + ": " + e.what());
    return fail(kFailure, e.what());
  } catch (const std::exception& e) {
    return fail(kFailure, e.what());
  }
}
