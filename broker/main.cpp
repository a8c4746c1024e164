// ledgerq-broker: flags, logging, signals; the work is in transport/server.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#ifdef LEDGERQ_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <map>
#include <zmq.hpp>

#include "codec/time_text.hpp"
#include "domain/must.hpp"
#include "domain/view.hpp"
#include "storage/lmdb_env.hpp"
#include "transport/server.hpp"

namespace {
std::atomic<bool> g_stop{false};

// Every peer is a file descriptor: take the hard limit (Debian's is
// 524,288) instead of the soft 1,024, so that a crowd of peers meets a
// bound an operator set rather than the default. Logged at start.
void raise_fd_limit() {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0) return;
  if (r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &r);
  }
}
std::atomic<bool> g_reload{false};
extern "C" void on_signal(int) { g_stop.store(true); }
extern "C" void on_hangup(int) { g_reload.store(true); }

// Tells systemd (Type=notify) how the service stands: READY=1 once every
// socket is bound and the store recovered, STOPPING=1 when a signal ends
// it. Outside systemd (no NOTIFY_SOCKET) it does nothing.
void notify_systemd([[maybe_unused]] const std::string& state) {
#ifdef LEDGERQ_HAVE_SYSTEMD
  (void)::sd_notify(0, state.c_str());
#endif
}
}  // namespace

int main(int argc, char** argv) {
  using namespace ledgerq;
  CLI::App app{"ledgerq-broker: a durable job broker over ZeroMQ and LMDB"};
  app.set_version_flag("--version", std::string("ledgerq-broker ") + LEDGERQ_RELEASE);
  // Every flag may also come from a file of `flag = value` lines (TOML);
  // flags on the command line win. The Debian package's service reads
  // /etc/ledgerq/broker.conf.
  app.set_config("--config", "", "Read flags from this file: one `name = value` line each (TOML), e.g. sync = \"full\"")
      ->type_name("FILE")
      ->check(CLI::ExistingFile.description(""));
  app.allow_config_extras(CLI::config_extras_mode::error);  // a misspelt setting is an error, not a silent default
  transport::ServerOptions server;
  storage::EnvOptions env;
  env.dir = "ledgerq-data";
  std::string log_level = "info";
  app.add_option("--data", env.dir, "Data directory (created if absent)")->type_name("DIR")->capture_default_str();
  app.add_option("--router", server.router, "ROUTER endpoint for requests and replies")
      ->type_name("ENDPOINT")
      ->capture_default_str();
  app.add_option("--status-pub", server.status_pub, "XPUB endpoint of per-client status topics")
      ->type_name("ENDPOINT")
      ->capture_default_str();
  app.add_option("--requests-pub", server.requests_pub, "XPUB endpoint of per-datasource request topics")
      ->type_name("ENDPOINT")
      ->capture_default_str();
  const std::map<std::string, storage::SyncMode> modes{
      {"full", storage::SyncMode::full}, {"meta", storage::SyncMode::meta}, {"none", storage::SyncMode::none}};
  app.add_option("--sync", env.sync,
                 "Durability, when the journal is flushed: full (before replying), meta (after: the last "
                 "turn may be lost on OS crash), none (once a second: up to ~1 s lost on OS crash)")
      ->transform(CLI::CheckedTransformer(modes, CLI::ignore_case).description(""))
      ->type_name("MODE")
      ->default_str("full");
  app.add_option("--map-size", env.map_size,
                 "LMDB map size at start (e.g. 1GiB); it doubles by itself when 3/4 is in use")
      ->transform(CLI::AsSizeValue(false).description(""))
      ->type_name("SIZE")
      ->default_str("1GiB");
  app.add_option("--map-max", env.map_max,
                 "The most the map grows to, e.g. 64GiB (0: as far as the disk has free space)")
      ->transform(CLI::AsSizeValue(false).description(""))
      ->type_name("SIZE")
      ->default_str("0");
  app.add_option("--journal-size", server.journal_bytes,
                 "The journal's ring (e.g. 64MiB): a turn bigger than half of it goes to LMDB directly")
      ->transform(CLI::AsSizeValue(false).description(""))
      ->type_name("SIZE")
      ->check(CLI::Range(std::uint64_t{64} << 10, std::uint64_t{1} << 40).description(""))
      ->default_str("64MiB");
  app.add_option("--batch", server.batch_max, "Most requests applied in one turn (1..65536)")
      ->check(CLI::Range(1, 65536).description(""))
      ->type_name("N")
      ->capture_default_str();
  // Durations in seconds, or with a unit: 90s, 15m, 12h, 7d.
  // Durations as every ledgerq program reads them (codec/time_text.hpp).
  const CLI::Validator duration(
      [](std::string& text) {
        auto d = codec::parse_duration(text);
        return d ? std::string() : d.error().message;
      },
      "");
  // The defaults bound everything a finished job leaves, at any rate of
  // jobs (README "Retention").
  std::string job_retention = "7d", log_retention = "30d";
  std::uint64_t log_max = std::uint64_t{1} << 30;
  app.add_option("--job-retention", job_retention,
                 "Finished jobs leave the view this long after they end, e.g. 7d, 36h, 1h30m (0: keep for ever)")
      ->check(duration)
      ->type_name("DURATION")
      ->capture_default_str();
  server.retention.job_count = 1'000'000;
  app.add_option("--job-retention-count", server.retention.job_count,
                 "At most this many finished jobs stay in the view; the oldest-finished leave first (0: no limit)")
      ->type_name("N")
      ->capture_default_str();
  app.add_option("--log-retention", log_retention, "Log entries older than this are trimmed, e.g. 30d (0: keep)")
      ->check(duration)
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--log-max-size", log_max,
                 "The log and the notices stored with it are trimmed to this size (0: no limit)")
      ->transform(CLI::AsSizeValue(false).description(""))
      ->type_name("SIZE")
      ->default_str("1GiB");
  std::string curve_secret, principals;
  app.add_option("--curve-secret", curve_secret,
                 "The broker's CURVE secret key file (ledgerq keygen): turns on CURVE and principals on every socket")
      ->check(CLI::ExistingFile.description(""))
      ->type_name("FILE");
  app.add_option("--principals", principals, "Principals file: the keys admitted and their roles (SIGHUP rereads it)")
      ->check(CLI::ExistingFile.description(""))
      ->type_name("FILE");
  app.add_flag("--insecure", server.insecure,
               "Allow plain mode (no CURVE: anyone can act as anyone) on endpoints other machines can reach");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}).description(""))
      ->type_name("LEVEL")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  server.retention.job_age = *codec::parse_duration(job_retention);
  server.retention.log_age = *codec::parse_duration(log_retention);
  server.retention.log_bytes = log_max;

  auto logger = spdlog::stderr_color_mt("ledgerq");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(log_level));

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGHUP, on_hangup);
  std::signal(SIGPIPE, SIG_IGN);
  raise_fd_limit();

  if (curve_secret.empty() != principals.empty()) {
    spdlog::error("--curve-secret and --principals go together: CURVE needs to know whom to admit");
    return 2;
  }
  try {
    if (!curve_secret.empty())
      server.security = transport::SecurityOptions{keys::read_secret(curve_secret), principals};
  } catch (const keys::KeyError& e) {
    spdlog::error("{}", e.what());
    return 2;
  }
  try {
    env.upgrade = [](domain::Kv& kv, std::uint32_t from) {
      if (const auto n = domain::upgrade_store(kv, from))
        spdlog::info("store of format {} upgraded: {} index entries added", from, n);
    };
    storage::Env store(env);
    transport::Server srv(store, server);
    // One line on stdout for people and for scripts that wait for it.
    std::printf("ledgerq-broker ready: router=%s status=%s requests=%s data=%s sync=%s security=%s\n",
                srv.router_endpoint().c_str(), srv.status_endpoint().c_str(),
                srv.requests_endpoint().c_str(), std::filesystem::absolute(env.dir).c_str(),
                env.sync == storage::SyncMode::full ? "full" : env.sync == storage::SyncMode::meta ? "meta" : "none",
                server.security ? "curve" : "plain");
    std::fflush(stdout);
    notify_systemd("READY=1\nSTATUS=serving on " + srv.router_endpoint());
    if (server.security)
      spdlog::info("CURVE on; broker public key {}", server.security->server.public_z85);
    else if (server.insecure)
      spdlog::warn("plain mode with --insecure: no CURVE, anyone who reaches these endpoints can act as any "
                   "client, worker or admin");
    rlimit files{};
    ::getrlimit(RLIMIT_NOFILE, &files);
    const auto map = store.map_usage();
    spdlog::info("serving; map {} MiB, {} MiB in use, grows to at most {} MiB; up to {} open files (connections)",
                 map.size >> 20, map.used >> 20, map.limit >> 20, static_cast<unsigned long long>(files.rlim_cur));
    try {
      srv.run(g_stop, &g_reload);
      notify_systemd("STOPPING=1");
    } catch (const zmq::error_t& e) {  // not a bind: those fail above, when srv is made
      spdlog::critical("socket failure while serving: {}", e.what());
      return 1;
    }
    const auto& st = srv.stats();
    spdlog::info("stopped: {} requests in {} transactions, {} bad, {} failed batches; {} leases expired, "
                 "{} jobs collected, {} log entries trimmed",
                 st.requests, st.transactions, st.bad_requests, st.failed_batches, st.timers.expired,
                 st.timers.collected, st.timers.trimmed);
    const auto end = store.map_usage();
    spdlog::info("the store uses {} MiB of a {} MiB map that can grow to {} MiB", end.used >> 20, end.size >> 20,
                 end.limit >> 20);
    return 0;
  } catch (const storage::FormatError& e) {
    spdlog::error("{}", e.what());
    return 2;
  } catch (const storage::CorruptError& e) {  // checked before LMDB maps the file
    spdlog::critical("{}; nothing was written (ledgerq-replay --verify, or restore a copy)", e.what());
    return 3;
  } catch (const domain::CorruptStore& e) {  // a journal record that does not apply
    spdlog::critical("{}; nothing was written (ledgerq-replay --verify, or restore a copy)", e.what());
    return 3;
  } catch (const zmq::error_t& e) {
    spdlog::error("cannot bind: {}", e.what());
    return 2;
  } catch (const std::invalid_argument& e) {  // plain mode beyond loopback
    spdlog::error("{}", e.what());
    return 2;
  } catch (const keys::KeyError& e) {  // the principals file
    spdlog::error("{}", e.what());
    return 2;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
}
