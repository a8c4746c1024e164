// ledgerq: the command-line client of a ledgerq broker.
//
// One path for every request/reply command: the subcommand turns its flags
// and JSON arguments into the command's fields, keyed as on the wire
// (PROTOCOL.md §6); tools::command_from_json builds the Command (so a bad
// field is refused here, before anything is sent); the shared codec sends
// it over a DEALER; the reply is printed with the wire's keys. `call` is
// the same path with the fields given as JSON. `watch` and `follow` use
// libclient instead, for its gap recovery (watch.cpp).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <optional>

#include "codec/time_text.hpp"
#include "commands.hpp"
#include "transport/keys.hpp"
#include <ledgerq/error.hpp>

namespace ledgerq::cli {

// --- shared with work.cpp (commands.hpp) ----------------------------------------

std::uint64_t duration_ms(const std::string& text, const std::string& what) {
  auto d = codec::parse_duration(text);
  if (!d) usage_error(what + ": " + d.error().message);
  return *d / 1000;
}

bool given(const CLI::Option* o) { return o && o->count() > 0; }

CLI::App* add_command(CLI::App* parent, const std::string& name, const std::string& desc, const std::string& example) {
  auto* c = parent->add_subcommand(name, desc);
  c->footer("Example:\n" + example);
  return c;
}

json call_ok(const Settings& s, std::string_view command, const json& fields) {
  Connection c(s);
  return require_ok(c.call(command, fields), command).fields;
}

void check_items(const json& out, std::string_view command, const char* list) {
  std::size_t failed = 0;
  std::string first;
  int code = exit_code::ok;
  for (const auto& item : out.value(list, json::array())) {
    const unsigned c = item.value("code", 0u);
    if (c == 200) continue;
    if (failed++ == 0) {
      code = exit_for_code(c);
      first = "job '" + item.value("job", "") + "': " + std::to_string(c) + ": " + item.value("message", "");
    }
  }
  if (failed)
    throw Failure(code, std::string(command) + ": " + std::to_string(failed) + " of " +
                            std::to_string(out.value(list, json::array()).size()) + " refused; first: " + first);
}

int itemized(const Settings& s, std::string_view command, const json& fields, const char* list) {
  const json out = call_ok(s, command, fields);
  print(out, s);
  check_items(out, command, list);
  return exit_code::ok;
}

namespace {

const std::vector<std::string> kStatuses = {"submitted", "accepted", "complete", "cancelled",
                                            "forbidden", "failed",   "retrying"};

json object_arg(const std::string& arg, const std::string& what) {
  json j = read_json_arg(arg, what);
  if (!j.is_object()) usage_error(what + ": expected a JSON object, got " + std::string(j.type_name()));
  return j;
}

// --- flags shared by several commands -----------------------------------------

struct JobFlags {
  std::string options, delay, type, key, lifecycle, custom_status;
  unsigned priority = 0;
  std::uint64_t run_after = 0;
  std::uint32_t attempts = 0;
  CLI::Option *options_o{}, *priority_o{}, *run_after_o{}, *delay_o{}, *attempts_o{}, *type_o{}, *key_o{},
      *lifecycle_o{}, *custom_o{};

  void add(CLI::App* c) {
    options_o = c->add_option("--options", options, "JobOptions as JSON (or @file, -); the flags below override it");
    priority_o = c->add_option("--priority", priority, "1 (highest) to 3")->check(CLI::Range(1, 3));
    run_after_o = c->add_option("--run-after", run_after, "not eligible before this time (µs since the epoch)");
    delay_o = c->add_option("--delay", delay, "not eligible for this long (e.g. 30s), from this machine's clock")
                  ->excludes(run_after_o);
    attempts_o = c->add_option("--attempts", attempts, "attempts allowed (>= 1)")->check(CLI::PositiveNumber);
    type_o = c->add_option("--type", type, "job type, for workers that take only some types");
    key_o = c->add_option("--key", key, "resource key: one job per key in flight, in submit order");
    lifecycle_o = c->add_option("--lifecycle", lifecycle, "the job creates or deletes its key's resource")
                      ->check(CLI::IsMember({"create", "delete"}));
    custom_o = c->add_option("--custom-status", custom_status, "initial custom status (free text)");
  }

  json to_json() const {
    json o = given(options_o) ? object_arg(options, "--options") : json::object();
    if (given(priority_o)) o["priority"] = priority;
    if (given(run_after_o)) o["run_after"] = run_after;
    if (given(delay_o)) o["run_after"] = now_micros() + duration_ms(delay, "--delay") * 1000;
    if (given(attempts_o)) o["attempts"] = attempts;
    if (given(type_o)) o["type"] = type;
    if (given(key_o)) o["key"] = key;
    if (given(lifecycle_o)) o["lifecycle"] = lifecycle;
    if (given(custom_o)) o["custom_status"] = custom_status;
    return o;
  }
};

struct DsFlags {
  std::string options, lease, retry_base, retry_cap;
  std::uint64_t max_pending = 0;
  std::uint32_t dequeue_rate = 0;
  bool resources = false;
  CLI::Option *options_o{}, *max_pending_o{}, *rate_o{}, *lease_o{}, *base_o{}, *cap_o{}, *resources_o{};

  void add(CLI::App* c) {
    options_o = c->add_option("--options", options, "DsOptions as JSON (or @file, -); the flags below override it");
    max_pending_o = c->add_option("--max-pending", max_pending, "refuse submits (301) beyond this many waiting jobs");
    rate_o = c->add_option("--dequeue-rate", dequeue_rate, "jobs leased per second at most");
    lease_o = c->add_option("--lease", lease, "default lease of a dequeue (e.g. 30s)");
    base_o = c->add_option("--retry-base", retry_base, "first retry delay of the backoff (e.g. 1s)");
    cap_o = c->add_option("--retry-cap", retry_cap, "longest retry delay of the backoff (e.g. 5m)");
    resources_o = c->add_flag("--resources", resources, "track key lifecycles; refuse jobs whose resource will not exist");
  }
  bool any() const {
    return given(options_o) || given(max_pending_o) || given(rate_o) || given(lease_o) || given(base_o) || given(cap_o) ||
           given(resources_o);
  }
  json to_json() const {
    json o = given(options_o) ? object_arg(options, "--options") : json::object();
    if (given(max_pending_o)) o["max_pending"] = max_pending;
    if (given(rate_o)) o["dequeue_rate"] = dequeue_rate;
    if (given(lease_o)) o["lease_ms"] = duration_ms(lease, "--lease");
    if (given(base_o)) o["retry_base_ms"] = duration_ms(retry_base, "--retry-base");
    if (given(cap_o)) o["retry_cap_ms"] = duration_ms(retry_cap, "--retry-cap");
    if (given(resources_o)) o["resources"] = resources;
    return o;
  }
};

struct FilterFlags {
  std::string status, type, key, client;
  unsigned priority = 0;
  std::uint32_t limit = 0;
  CLI::Option *status_o{}, *type_o{}, *key_o{}, *client_o{}, *priority_o{}, *limit_o{};

  void add(CLI::App* c, const std::string& limit_help) {
    status_o = c->add_option("--status", status, "only jobs in this status")->check(CLI::IsMember(kStatuses));
    type_o = c->add_option("--type", type, "only jobs of this type");
    key_o = c->add_option("--key", key, "only jobs of this resource key");
    client_o = c->add_option("--client", client, "only jobs of this client");
    priority_o = c->add_option("--priority", priority, "only jobs of this priority")->check(CLI::Range(1, 3));
    limit_o = c->add_option("--limit", limit, limit_help)->check(CLI::PositiveNumber);
  }
  void into(json& f) const {
    if (given(status_o)) f["status"] = status;
    if (given(type_o)) f["type"] = type;
    if (given(key_o)) f["key"] = key;
    if (given(client_o)) f["client"] = client;
    if (given(priority_o)) f["priority"] = priority;
    if (given(limit_o)) f["limit"] = limit;
  }
};

// --- the request/reply path ------------------------------------------------------

int simple(const Settings& s, std::string_view command, const json& fields) {
  print(call_ok(s, command, fields), s);
  return exit_code::ok;
}

// `ds create` of a datasource that exists keeps its options: says on stderr
// which of those asked for differ (exit 4, as a conflict), or nothing.
int options_differ(const Settings& s, const std::string& ds, const json& asked) {
  const json list = call_ok(s, "ds_list", json::object());
  json have = json::object();
  for (const auto& d : list.value("datasources", json::array()))
    if (d.value("datasource", "") == ds) have = d.value("options", json::object());
  std::string diff;
  for (const auto& [k, v] : asked.items()) {
    const json now = have.contains(k) ? have[k] : json(nullptr);
    const bool default_asked = v == json(0) || v == json(false);
    if (now == v || (now.is_null() && default_asked)) continue;
    diff += (diff.empty() ? "" : ", ") + k + " is " + (now.is_null() ? std::string("the default") : json_text(now)) +
            ", asked " + json_text(v);
  }
  if (diff.empty()) return exit_code::ok;
  std::cerr << "ds create: '" << ds << "' exists, and keeps its options: " << diff
            << " (ledgerq ds configure changes them)\n";
  return exit_code::conflict;
}

// ds_configure replaces the whole option set: the datasource's current
// options (from ds_list) with `changes` over them. Two operators changing
// the same datasource at once can still undo each other's change.
int configure_merged(const Settings& s, const std::string& ds, const json& changes) {
  Connection c(s);
  const json list = require_ok(c.call("ds_list", json::object()), "ds_list").fields;
  std::optional<json> options;
  for (const auto& d : list.value("datasources", json::array()))
    if (d.value("datasource", "") == ds) options = d.value("options", json::object());
  if (!options) throw Failure(exit_for_code(404), "ds_configure: not_found (404): no datasource '" + ds + "'");
  for (const auto& [k, v] : changes.items()) (*options)[k] = v;
  print(require_ok(c.call("ds_configure", json{{"datasource", ds}, {"options", *options}}), "ds_configure").fields, s);
  return exit_code::ok;
}

const char* kExitCodes = R"(Exit codes:
  0   ok
  1   unexpected failure of the tool (an unreadable reply, ...)
  2   usage: bad flags, arguments or JSON; nothing was sent
  3   not found (404)
  4   conflict (409)
  5   forbidden (403)
  6   other refusal (400 bad request, 413 too large): fix the request
  7   retry later (3xx: queue_full, rate_limited); nothing was applied
  8   broker error (5xx); nothing was applied, retrying is safe
  9   no answer in time (is the broker running?), or a watch ran out of --timeout
  10  watch: the job ended failed, cancelled or forbidden (and --until did not name it)
)";

}  // namespace

int run(int argc, char** argv) {
  Settings s;
  s.stdout_is_tty = ::isatty(STDOUT_FILENO) == 1;
  std::string timeout;
  bool as_json = false, as_text = false;

  CLI::App app{"ledgerq: the command-line client of a ledgerq broker", "ledgerq"};
  app.set_version_flag("--version", std::string("ledgerq ") + LEDGERQ_RELEASE);
  app.fallthrough();  // global flags may also follow the command
  app.require_subcommand(1);
  app.add_option("--router", s.router, "the broker's ROUTER endpoint")->envname("LEDGERQ_ROUTER")->capture_default_str();
  app.add_option("--status-pub", s.status_pub, "the broker's status PUB endpoint (watch)")
      ->envname("LEDGERQ_STATUS_PUB")->capture_default_str();
  app.add_option("--requests-pub", s.requests_pub, "the broker's requests PUB endpoint (follow)")
      ->envname("LEDGERQ_REQUESTS_PUB")->capture_default_str();
  app.add_option("--client-id", s.client, "the client id that submit/status/cancel/watch act as")
      ->envname("LEDGERQ_CLIENT")->capture_default_str();
  app.add_option("--timeout", timeout, "give up after this long (exit 9): a reply (default 10s), or a whole watch/follow "
                                       "(default: none). E.g. 500ms, 5s, 2m")->envname("LEDGERQ_TIMEOUT");
  std::string server_key, secret_key;
  app.add_option("--server-key", server_key, "a secure broker's public key: its .pub file or the Z85 text")
      ->envname("LEDGERQ_SERVER_KEY");
  app.add_option("--secret-key", secret_key, "this peer's .secret key file (ledgerq keygen), with --server-key")
      ->envname("LEDGERQ_SECRET_KEY_FILE");
  auto* json_o = app.add_flag("--json", as_json, "print JSON (the default when stdout is not a terminal)");
  app.add_flag("--text", as_text, "print text and tables (the default on a terminal)")->excludes(json_o);

  Actions actions;
  const auto add = add_command;
  std::string ds, job, status, body, jobs_arg, command_name, error_text, response;
  std::vector<std::string> job_ids;

  // keygen: no broker involved
  std::string key_base, principal_line;
  auto* keygen = add(&app, "keygen", "write a new CURVE key pair: PATH.pub and PATH.secret (mode 0600)",
                     "  ledgerq keygen keys/app-1\n"
                     "  ledgerq keygen keys/resizer --principal 'worker resizer images' >> keys/principals");
  keygen->add_option("path", key_base, "where to write, without the .pub/.secret suffix")->required();
  keygen->add_option("--principal", principal_line,
                     "print the principals file's line for the new key instead: 'ROLE NAME [DATASOURCES...]'");
  actions.emplace_back(keygen, [&] {
    try {
      const auto pair = keys::generate();
      keys::write_pair(key_base, pair);
      if (!principal_line.empty())
        std::cout << pair.public_z85 << "  " << principal_line << "\n";
      else
        print(json{{"public_key", pair.public_z85}, {"public_file", key_base + ".pub"},
                   {"secret_file", key_base + ".secret"}}, s);
    } catch (const keys::KeyError& e) {
      throw Failure(exit_code::failure, std::string("keygen: ") + e.what());
    }
    return exit_code::ok;
  });

  // ping, stats
  auto* ping = add(&app, "ping", "is the broker alive: its protocol version, release and clock", "  ledgerq ping");
  actions.emplace_back(ping, [&] { return simple(s, "ping", json::object()); });
  auto* stats = add(&app, "stats", "the broker's figures: counters, log, map, jobs per datasource",
                    "  ledgerq stats\n  ledgerq stats --json | jq .requests");
  actions.emplace_back(stats, [&] { return simple(s, "stats", json::object()); });

  // ds list|create|configure|pause|resume|delete
  auto* dsg = app.add_subcommand("ds", "datasources: list, create, configure, pause, resume, delete");
  dsg->require_subcommand(1);
  dsg->footer("Examples:\n  ledgerq ds list\n  ledgerq ds create images --max-pending 10000\n"
              "  ledgerq ds configure images --lease 2m\n  ledgerq ds pause images\n  ledgerq ds delete images");
  auto* ds_list = add(dsg, "list", "every datasource with its options and its jobs counted by status",
                      "  ledgerq ds list");
  actions.emplace_back(ds_list, [&] { return simple(s, "ds_list", json::object()); });
  DsFlags create_flags, configure_flags;
  auto* ds_create = add(dsg, "create", "create a datasource (no-op if it exists: created=false)",
                        "  ledgerq ds create images --max-pending 10000 --lease 30s --resources");
  ds_create->add_option("datasource", ds, "name: 1..64 of [A-Za-z0-9_.-]")->required();
  create_flags.add(ds_create);
  actions.emplace_back(ds_create, [&] {
    json f{{"datasource", ds}};
    if (create_flags.any()) f["options"] = create_flags.to_json();
    const json out = call_ok(s, "ds_create", f);
    print(out, s);
    if (out.value("created", true) || !create_flags.any()) return exit_code::ok;
    return options_differ(s, ds, f["options"]);
  });
  bool replace = false;
  auto* ds_configure = add(dsg, "configure",
                           "change the options given and keep the others (--replace: set the whole option set, "
                           "left-out options back to their defaults)",
                           "  ledgerq ds configure images --dequeue-rate 100\n"
                           "  ledgerq ds configure images --replace --max-pending 500");
  ds_configure->add_option("datasource", ds, "the datasource")->required();
  configure_flags.add(ds_configure);
  ds_configure->add_flag("--replace", replace, "the options given are the whole set: the others go back to defaults");
  actions.emplace_back(ds_configure, [&] {
    if (replace) return simple(s, "ds_configure", json{{"datasource", ds}, {"options", configure_flags.to_json()}});
    return configure_merged(s, ds, configure_flags.to_json());
  });
  auto* ds_pause = add(dsg, "pause", "pause a datasource: dequeues lease nothing until it is resumed; submits still land",
                       "  ledgerq ds pause images");
  ds_pause->add_option("datasource", ds, "the datasource")->required();
  actions.emplace_back(ds_pause, [&] { return configure_merged(s, ds, json{{"paused", true}}); });
  auto* ds_resume = add(dsg, "resume", "resume a paused datasource: waiting dequeues get their jobs at once",
                        "  ledgerq ds resume images");
  ds_resume->add_option("datasource", ds, "the datasource")->required();
  actions.emplace_back(ds_resume, [&] { return configure_merged(s, ds, json{{"paused", false}}); });
  auto* ds_delete = add(dsg, "delete", "delete a datasource and all its jobs (deleted=false if it did not exist)",
                        "  ledgerq ds delete images");
  ds_delete->add_option("datasource", ds, "the datasource")->required();
  actions.emplace_back(ds_delete, [&] { return simple(s, "ds_delete", json{{"datasource", ds}}); });

  // submit, submit-batch
  JobFlags submit_flags;
  auto* submit = add(&app, "submit", "submit a job (idempotent: the same id and body again is a duplicate)",
                     "  ledgerq submit images job-1 --body '{\"w\":640}' --priority 2 --delay 30s\n"
                     "  ledgerq submit images job-2 --body @body.json\n"
                     "  echo '{\"w\":320}' | ledgerq submit images job-3 --body -");
  submit->add_option("datasource", ds, "the datasource")->required();
  submit->add_option("job", job, "the job id, chosen by you (unique per datasource)")->required();
  submit->add_option("--body", body, "the job's body: JSON text, @file or - (stdin); default null");
  submit_flags.add(submit);
  actions.emplace_back(submit, [&] {
    json f{{"datasource", ds}, {"job", job}, {"client", s.client}};
    f["request"] = body.empty() ? json(nullptr) : read_json_arg(body, "--body");
    if (auto o = submit_flags.to_json(); !o.empty()) f["options"] = o;
    return simple(s, "submit", f);
  });
  auto* batch = add(&app, "submit-batch", "submit up to 1000 jobs in one transaction; each succeeds or fails on its own",
                    "  ledgerq submit-batch images --jobs '[{\"job\":\"a\",\"request\":1},{\"job\":\"b\",\"request\":2,"
                    "\"options\":{\"priority\":3}}]'");
  batch->add_option("datasource", ds, "the datasource")->required();
  batch->add_option("--jobs", jobs_arg, "JSON array of {job, request, options?}: text, @file or -")->required();
  actions.emplace_back(batch, [&] {
    json jobs = read_json_arg(jobs_arg, "--jobs");
    if (!jobs.is_array()) usage_error("--jobs: expected a JSON array of {job, request, options?}");
    for (auto& j : jobs)
      if (j.is_object() && !j.contains("request")) j["request"] = nullptr;
    return itemized(s, "submit_batch", json{{"datasource", ds}, {"client", s.client}, {"jobs", jobs}}, "results");
  });

  // status, cancel, update
  auto* st = add(&app, "status", "a job's status record (a job of --client-id)", "  ledgerq status images job-1");
  st->add_option("datasource", ds, "the datasource")->required();
  st->add_option("job", job, "the job id")->required();
  actions.emplace_back(st, [&] { return simple(s, "status", json{{"datasource", ds}, {"job", job}, {"client", s.client}}); });
  auto* cancel = add(&app, "cancel", "cancel a job of --client-id (a held job gets cancel_requested)",
                     "  ledgerq cancel images job-1");
  cancel->add_option("datasource", ds, "the datasource")->required();
  cancel->add_option("job", job, "the job id")->required();
  actions.emplace_back(cancel, [&] { return simple(s, "cancel", json{{"datasource", ds}, {"job", job}, {"client", s.client}}); });
  auto* update = add(&app, "update", "set a job's status, as a driver does",
                     "  ledgerq update images job-1 complete --response '{\"url\":\"s3://x\"}'\n"
                     "  ledgerq update images job-2 failed --error 'no such image'");
  update->add_option("datasource", ds, "the datasource")->required();
  update->add_option("job", job, "the job id")->required();
  update->add_option("status", status, "the new status")->required()->check(CLI::IsMember(kStatuses));
  auto* response_o = update->add_option("--response", response, "result body: JSON text, @file or -");
  auto* error_o = update->add_option("--error", error_text, "failure text");
  actions.emplace_back(update, [&] {
    json f{{"datasource", ds}, {"job", job}, {"status", status}};
    if (given(response_o)) f["response"] = read_json_arg(response, "--response");
    if (given(error_o)) f["error"] = error_text;
    return simple(s, "update", f);
  });

  // watch, follow
  WatchArgs wa;
  auto* watch = add(&app, "watch", "print a job's status now and at each change until it ends; or every change of "
                                   "--client-id's jobs, live",
                    "  ledgerq watch images job-1 --timeout 5m     # exit 0 complete, 10 failed/cancelled, 9 timeout\n"
                    "  ledgerq --client-id app-1 watch --count 10  # the next 10 changes of app-1's jobs");
  watch->add_option("datasource", wa.datasource, "only this datasource (with a job: the job's)");
  watch->add_option("job", wa.job, "the job to watch");
  watch->add_option("--until", wa.until, "stop at one of these statuses, or 'terminal' (the default)")->delimiter(',');
  std::uint64_t watch_from = 0, follow_from = 0;
  auto* wfrom = watch->add_option("--from", watch_from, "client watch: replay from after this seq (0: all retained history)");
  watch->add_option("--count", wa.count, "client watch: stop after this many notices");
  actions.emplace_back(watch, [&] {
    if (given(wfrom)) wa.from = watch_from;
    return run_watch(s, wa);
  });
  FollowArgs fa;
  auto* follow = add(&app, "follow", "print a datasource's submits and cancels as they come (as a driver sees them)",
                     "  ledgerq follow images              # new entries, until Ctrl-C\n"
                     "  ledgerq follow images --from 0 --count 100 --json");
  follow->add_option("datasource", fa.datasource, "the datasource")->required();
  auto* ffrom = follow->add_option("--from", follow_from, "first timestamp, µs (0: all retained history; default: now)");
  follow->add_option("--count", fa.count, "stop after this many entries");
  actions.emplace_back(follow, [&] {
    if (given(ffrom)) fa.from = follow_from;
    return run_follow(s, fa);
  });

  // lookup, count, jobs, scan, retry, delete
  bool bodies = false;
  auto* lookup = add(&app, "lookup", "jobs by id, of any client (unknown ids are left out)",
                     "  ledgerq lookup images job-1 job-2 --bodies");
  lookup->add_option("datasource", ds, "the datasource")->required();
  lookup->add_option("jobs", job_ids, "job ids (1..1000)")->required();
  lookup->add_flag("--bodies", bodies, "include the jobs' bodies");
  actions.emplace_back(lookup, [&] {
    json f{{"datasource", ds}, {"jobs", job_ids}};
    if (bodies) f["bodies"] = true;
    return simple(s, "lookup", f);
  });
  unsigned count_priority = 0;
  std::string due;
  auto* count = add(&app, "count", "how many jobs are in a status (all statuses when none is given)",
                    "  ledgerq count images\n  ledgerq count images submitted --due now");
  count->add_option("datasource", ds, "the datasource")->required();
  count->add_option("status", status, "the status")->check(CLI::IsMember(kStatuses));
  auto* cprio = count->add_option("--priority", count_priority, "only this priority")->check(CLI::Range(1, 3));
  auto* due_o = count->add_option("--due", due, "submitted/retrying jobs eligible now or later")
                    ->check(CLI::IsMember({"now", "future"}));
  actions.emplace_back(count, [&] {
    json f{{"datasource", ds}};
    if (given(cprio)) f["priority"] = count_priority;
    if (given(due_o)) f["due"] = due;
    if (!status.empty()) {
      f["status"] = status;
      return simple(s, "count", f);
    }
    if (given(due_o)) usage_error("count: --due needs a status (submitted or retrying)");
    Connection c(s);
    json counts = json::object();
    for (const auto& st_name : kStatuses) {
      f["status"] = st_name;
      counts[st_name] = require_ok(c.call("count", f), "count").fields.value("count", json(0));
    }
    print(json{{"counts", counts}}, s);
    return exit_code::ok;
  });
  FilterFlags jobs_flags, scan_flags, delete_flags;
  auto* jobs = add(&app, "jobs", "list jobs matching filters, every page (at most --limit, default 1000)",
                   "  ledgerq jobs images --status failed\n  ledgerq jobs images --client app-1 --limit 50");
  jobs->add_option("datasource", ds, "the datasource")->required();
  jobs_flags.add(jobs, "list at most this many jobs (default 1000)");
  actions.emplace_back(jobs, [&] {
    const std::uint64_t want = given(jobs_flags.limit_o) ? jobs_flags.limit : 1000;
    Connection c(s);
    json all = json::array();
    std::string cont;
    do {
      json f{{"datasource", ds}};
      jobs_flags.into(f);
      f["limit"] = std::min<std::uint64_t>(1000, want - all.size());
      if (!cont.empty()) f["continuation"] = cont;
      json page = require_ok(c.call("scan", f), "jobs").fields;
      for (auto& j : page.value("jobs", json::array())) all.push_back(std::move(j));
      cont = page.value("continuation", "");
    } while (!cont.empty() && all.size() < want);
    json out{{"jobs", all}};
    if (!cont.empty()) out["continuation"] = cont;  // more remain: `scan --continuation` goes on
    print(out, s);
    return exit_code::ok;
  });
  std::string continuation;
  auto* scan = add(&app, "scan", "one page of jobs matching filters, with the continuation for the next",
                   "  ledgerq scan images --status submitted --limit 100\n"
                   "  ledgerq scan images --status submitted --continuation \"$(ledgerq scan images --status submitted "
                   "--json | jq -r .continuation)\"");
  scan->add_option("datasource", ds, "the datasource")->required();
  scan_flags.add(scan, "jobs in the page (default 100, at most 1000)");
  scan->add_option("--continuation", continuation, "from the previous page");
  actions.emplace_back(scan, [&] {
    json f{{"datasource", ds}};
    scan_flags.into(f);
    if (!continuation.empty()) f["continuation"] = continuation;
    return simple(s, "scan", f);
  });
  std::string history_job;
  auto* history = add(&app, "history", "a job's events from the log, oldest first (every page)",
                      "  ledgerq history images job-1\n  ledgerq history images job-1 --json | jq -r '.events[].type'");
  history->add_option("datasource", ds, "the datasource")->required();
  history->add_option("job", history_job, "the job id")->required();
  actions.emplace_back(history, [&] {
    Connection c(s);
    json events = json::array();
    std::string cont;
    do {
      json f{{"datasource", ds}, {"job", history_job}};
      if (!cont.empty()) f["continuation"] = cont;
      json page = require_ok(c.call("history", f), "history").fields;
      for (auto& e : page.value("events", json::array())) events.push_back(std::move(e));
      cont = page.value("continuation", "");
    } while (!cont.empty());
    print(json{{"events", events}}, s);
    return exit_code::ok;
  });
  std::uint32_t retry_limit = 0, retry_attempts = 0;
  unsigned retry_priority = 0;
  std::uint64_t retry_run_after = 0;
  std::string retry_delay;
  std::vector<std::string> retry_jobs, delete_jobs;
  auto* retry = add(&app, "retry", "put failed jobs back in the queue, oldest first (or those named by --job)",
                    "  ledgerq retry images --attempts 3 --delay 1m\n  ledgerq retry images --job job-1 --job job-7");
  retry->add_option("datasource", ds, "the datasource")->required();
  auto* ra = retry->add_option("--attempts", retry_attempts, "attempts granted (default 1)")->check(CLI::PositiveNumber);
  auto* rp = retry->add_option("--priority", retry_priority, "only failed jobs of this priority")->check(CLI::Range(1, 3));
  auto* rr = retry->add_option("--run-after", retry_run_after, "not eligible before this time (µs)");
  auto* rd = retry->add_option("--delay", retry_delay, "not eligible for this long, from this machine's clock")->excludes(rr);
  auto* rl = retry->add_option("--limit", retry_limit, "at most this many (default 1000)")->check(CLI::PositiveNumber);
  auto* rj = retry->add_option("--job", retry_jobs, "only this job, if it is failed (repeatable, up to 1000)");
  actions.emplace_back(retry, [&] {
    json f{{"datasource", ds}};
    if (given(ra)) f["attempts"] = retry_attempts;
    if (given(rp)) f["priority"] = retry_priority;
    if (given(rr)) f["run_after"] = retry_run_after;
    if (given(rd)) f["run_after"] = now_micros() + duration_ms(retry_delay, "--delay") * 1000;
    if (given(rl)) f["limit"] = retry_limit;
    if (given(rj)) f["jobs"] = retry_jobs;
    return simple(s, "retry", f);
  });
  auto* del = add(&app, "delete",
                  "remove jobs matching filters (a status is required), or those named by --job whatever their "
                  "status; leaves no tombstone",
                  "  ledgerq delete images --status failed --type thumbnail\n  ledgerq delete images --job job-1");
  del->add_option("datasource", ds, "the datasource")->required();
  delete_flags.add(del, "at most this many (default 1000)");
  auto* dj = del->add_option("--job", delete_jobs, "only this job, whatever its status (repeatable, up to 1000)");
  actions.emplace_back(del, [&] {
    // A filter without a status would delete every job; named jobs need none.
    if (!given(delete_flags.status_o) && !given(dj)) usage_error("delete: give --status, or --job for named jobs");
    json f{{"datasource", ds}};
    delete_flags.into(f);
    if (given(dj)) f["jobs"] = delete_jobs;
    return simple(s, "delete", f);
  });

  // dequeue, ack, work (work.cpp)
  add_worker_commands(app, s, actions);

  // call: any command as JSON
  auto* call = add(&app, "call", "send any command by its wire name with its fields as JSON; print the whole reply",
                   "  ledgerq call dequeue --body '{\"datasource\":\"images\",\"worker\":\"me\",\"limit\":2}'\n"
                   "  ledgerq call stats");
  call->add_option("command", command_name, "the command's name (PROTOCOL.md §6), e.g. dequeue, ack, since")->required();
  call->add_option("--body", body, "the command's fields as a JSON object: text, @file or -; default {}");
  actions.emplace_back(call, [&] {
    const json f = body.empty() ? json::object() : object_arg(body, "--body");
    Connection c(s);
    const Answer a = c.call(command_name, f);
    if (s.format == Format::as_json) print_json(a.whole, s);
    else print_text(a.whole);
    if (a.code != 200) require_ok(a, command_name);
    // A batch is answered 200 with a code per item: a refused item fails
    // the call, as it does in submit-batch.
    for (const char* list : {"results", "acks"})
      if (a.fields.is_object() && a.fields.contains(list)) check_items(a.fields, command_name, list);
    return exit_code::ok;
  });

  app.footer(std::string(R"(Every command prints JSON when stdout is not a terminal (or with --json), text and tables
on a terminal (or with --text). Bodies and options are JSON: inline, @file, or - for stdin.
Environment: LEDGERQ_ROUTER, LEDGERQ_STATUS_PUB, LEDGERQ_REQUESTS_PUB, LEDGERQ_CLIENT, LEDGERQ_TIMEOUT,
LEDGERQ_SERVER_KEY and LEDGERQ_SECRET_KEY_FILE (a secure broker: README, Secure setup).
'ledgerq COMMAND --help' shows a command's flags and an example.

Examples:
  ledgerq ping
  ledgerq stats
  ledgerq ds create images --max-pending 10000
  ledgerq ds list
  ledgerq submit images job-1 --body '{"w":640}' --priority 2
  ledgerq submit-batch images --jobs @jobs.json
  ledgerq status images job-1
  ledgerq watch images job-1 --timeout 5m
  ledgerq cancel images job-1
  ledgerq update images job-1 complete --response '"ok"'
  ledgerq follow images
  ledgerq lookup images job-1 --bodies
  ledgerq count images
  ledgerq jobs images --status failed
  ledgerq scan images --status submitted --limit 100
  ledgerq history images job-1
  ledgerq retry images --attempts 2
  ledgerq delete images --status cancelled
  ledgerq dequeue images --lease 5m
  ledgerq ack images job-1 --token 1 --success --response '"ok"'
  ledgerq work images --concurrency 4 -- ./resize.sh
  ledgerq ds delete images
  ledgerq call since --body '{"datasource":"images","timestamp":0}'

)") + kExitCodes);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    const auto left = app.remaining();
    if (app.get_subcommands().empty() && !left.empty() && !left.front().starts_with("-")) {
      std::cerr << "ledgerq: unknown command '" << left.front() << "'\nRun 'ledgerq --help' for the commands.\n";
      return exit_code::usage;
    }
    std::string path = "ledgerq";  // the command being parsed, for the hint
    for (const CLI::App* a = &app; !a->get_subcommands().empty();) {
      a = a->get_subcommands().front();
      path += " " + a->get_name();
    }
    std::cerr << "ledgerq: " << e.what() << "\nRun '" << path << " --help' for usage.\n";
    return exit_code::usage;
  }

  try {
    if (!timeout.empty()) {
      const auto ms = duration_ms(timeout, "--timeout");
      if (ms == 0) usage_error("--timeout: '" + timeout + "' is no time at all");
      s.timeout = std::chrono::milliseconds(ms);
    }
    if (!server_key.empty() || !secret_key.empty()) {
      if (server_key.empty() || secret_key.empty())
        usage_error("--server-key and --secret-key go together (or LEDGERQ_SERVER_KEY and LEDGERQ_SECRET_KEY_FILE)");
      try {
        s.credentials = ledgerq::client::Credentials::from_files(server_key, secret_key);
      } catch (const ledgerq::client::Error& e) {
        usage_error(e.what());
      }
    }
    s.format = as_json ? Format::as_json : as_text ? Format::as_text : s.stdout_is_tty ? Format::as_text : Format::as_json;
    for (auto& [sub, action] : actions)
      if (sub->parsed()) return action();
    usage_error("no command given");
  } catch (const Failure& f) {
    std::cerr << "ledgerq: " << f.what() << "\n";
    return f.exit;
  } catch (const std::exception& e) {
    std::cerr << "ledgerq: " << e.what() << "\n";
    return exit_code::failure;
  }
}

}  // namespace ledgerq::cli

int main(int argc, char** argv) { return ledgerq::cli::run(argc, argv); }
