// The `ledgerq` command-line client, run as a process against a real broker
// process and its real LMDB store in a fresh temporary directory per test.
// Each refusal is checked three ways: the exit code scripts rely on, a
// message on stderr that says what is wrong, and the store unchanged.
#include <gtest/gtest.h>

#include <ledgerq/ledgerq.hpp>

#include <sys/syscall.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "broker_process.hpp"  // tools/common
#include "cli_process.hpp"

namespace ledgerq::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = std::make_unique<tools::BrokerProcess>(LEDGERQ_BROKER_PATH, dir_.path() / "data");
  }

  // The broker's endpoints come from the environment, as a script would set them.
  std::map<std::string, std::string> env() const {
    return {{"LEDGERQ_ROUTER", broker_->router()},
            {"LEDGERQ_STATUS_PUB", broker_->status_pub()},
            {"LEDGERQ_REQUESTS_PUB", broker_->requests_pub()},
            {"LEDGERQ_CLIENT", "app-1"}};
  }

  Outcome run(const std::vector<std::string>& args, const std::string& stdin_text = "",
              std::map<std::string, std::string> extra = {}) {
    auto e = env();
    for (auto& [k, v] : extra) e[k] = v;
    Running r(LEDGERQ_CLI_PATH, args, e);
    r.feed(stdin_text);
    return r.wait();
  }

  /// Runs a command that must succeed and returns its stdout as JSON.
  json ok(const std::vector<std::string>& args, const std::string& stdin_text = "") {
    auto o = run(args, stdin_text);
    EXPECT_EQ(o.status, 0) << "ledgerq " << ::testing::PrintToString(args) << "\nstderr: " << o.err;
    try {
      return json::parse(o.out);
    } catch (const std::exception& ex) {
      ADD_FAILURE() << "stdout is not JSON: " << o.out;
      return json();
    }
  }

  std::uint64_t count(const std::string& ds, const std::string& status) {
    return ok({"count", ds, status})["count"].get<std::uint64_t>();
  }

  tools::TempDir dir_;
  std::unique_ptr<tools::BrokerProcess> broker_;
};

TEST_F(Cli, HelpShowsEveryCommandWithAnExampleAndTheExitCodes) {
  auto top = run({"--help"});
  EXPECT_EQ(top.status, 0);
  for (const char* c : {"ping", "stats", "ds", "submit", "submit-batch", "status", "cancel", "update", "watch", "follow",
                        "lookup", "count", "jobs", "scan", "history", "retry", "delete", "call", "dequeue", "ack", "work"})
    EXPECT_NE(top.out.find(std::string("  ledgerq ") + c), std::string::npos) << c;
  EXPECT_NE(top.out.find("Exit codes:"), std::string::npos);
  for (std::vector<std::string> c : std::vector<std::vector<std::string>>{
           {"submit"}, {"watch"}, {"ds", "create"}, {"jobs"}, {"stats"}, {"call"}, {"delete"}, {"dequeue"}, {"ack"},
           {"work"}}) {
    c.push_back("--help");
    auto h = run(c);
    EXPECT_EQ(h.status, 0);
    EXPECT_NE(h.out.find("Example"), std::string::npos) << h.out;
    EXPECT_NE(h.out.find("ledgerq " + c[0]), std::string::npos) << h.out;
  }
}

TEST_F(Cli, DatasourcesCreateListConfigureDelete) {
  EXPECT_EQ(ok({"ds", "create", "images", "--max-pending", "5", "--lease", "2m"})["created"], true);
  EXPECT_EQ(ok({"ds", "create", "images"})["created"], false);
  EXPECT_EQ(ok({"ds", "create", "images", "--max-pending", "5"})["created"], false);  // the same: nothing to say
  auto other = run({"ds", "create", "images", "--max-pending", "9", "--dequeue-rate", "0"});
  EXPECT_EQ(other.status, 4) << "exists with other options: a conflict";
  EXPECT_NE(other.err.find("max_pending is 5, asked 9"), std::string::npos) << other.err;
  EXPECT_EQ(other.err.find("dequeue_rate"), std::string::npos) << "0 is its default: no difference\n" << other.err;
  auto list = ok({"ds", "list"})["datasources"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["datasource"], "images");
  EXPECT_EQ(list[0]["options"]["max_pending"], 5);
  EXPECT_EQ(list[0]["options"]["lease_ms"], 120000);
  EXPECT_EQ(list[0]["counts"]["submitted"], 0);
  // Only the options given change; --replace sets the whole set.
  auto conf = ok({"ds", "configure", "images", "--options", R"({"dequeue_rate":7})", "--resources"});
  EXPECT_EQ(conf["options"], json::parse(R"({"max_pending":5,"dequeue_rate":7,"lease_ms":120000,"resources":true})"));
  EXPECT_EQ(ok({"ds", "pause", "images"})["options"]["paused"], true);
  EXPECT_EQ(ok({"ds", "list"})["datasources"][0]["options"]["paused"], true);
  conf = ok({"ds", "resume", "images"});
  EXPECT_EQ(conf["options"], json::parse(R"({"max_pending":5,"dequeue_rate":7,"lease_ms":120000,"resources":true})"));
  conf = ok({"ds", "configure", "images", "--replace", "--dequeue-rate", "3"});
  EXPECT_EQ(conf["options"], json::parse(R"({"dequeue_rate":3})"));
  EXPECT_EQ(run({"ds", "pause", "nope"}).status, 3) << "a datasource that does not exist: 404's exit status";
  EXPECT_EQ(ok({"ds", "delete", "images"})["deleted"], true);
  EXPECT_EQ(ok({"ds", "delete", "images"})["deleted"], false);
  EXPECT_TRUE(ok({"ds", "list"})["datasources"].empty());
}

TEST_F(Cli, SubmitTakesItsBodyFromAnArgumentAFileOrStdinWithOptions) {
  ok({"ds", "create", "images"});
  auto r = ok({"submit", "images", "j1", "--body", R"({"w":640})"});
  EXPECT_EQ(r["job"], "j1");
  EXPECT_EQ(r["client"], "app-1");
  EXPECT_EQ(r["duplicate"], false);
  const auto file = dir_.path() / "body.json";
  std::ofstream(file) << R"({"w": 320, "tags": ["a", "b"]})";
  ok({"submit", "images", "j2", "--body", "@" + file.string()});
  ok({"submit", "images", "j3", "--body", "-", "--priority", "2", "--attempts", "5", "--type", "thumb", "--key", "k1",
      "--custom-status", "queued by hand", "--delay", "1h30m"},
     R"([1, 2.5, "three", null])");
  ok({"submit", "images", "j4"});  // no body: null
  EXPECT_EQ(ok({"submit", "images", "j1", "--body", R"({"w":640})"})["duplicate"], true);

  auto found = ok({"lookup", "images", "j1", "j2", "j3", "j4", "--bodies"})["jobs"];
  ASSERT_EQ(found.size(), 4u);
  EXPECT_EQ(found[0]["request"], json::parse(R"({"w":640})"));
  EXPECT_EQ(found[1]["request"], json::parse(R"({"w":320,"tags":["a","b"]})"));
  EXPECT_EQ(found[2]["request"], json::parse(R"([1,2.5,"three",null])"));
  EXPECT_TRUE(found[3].value("request", json()).is_null());
  EXPECT_EQ(found[2]["priority"], 2);
  EXPECT_EQ(found[2]["attempts"], 5);
  EXPECT_EQ(found[2]["type"], "thumb");
  EXPECT_EQ(found[2]["key"], "k1");
  EXPECT_EQ(found[2]["custom_status"], "queued by hand");
  // --delay 1h30m: the durations every ledgerq program reads (codec/time_text.hpp).
  const auto delay = found[2]["run_after"].get<std::uint64_t>() - found[2]["submitted"].get<std::uint64_t>();
  EXPECT_GT(delay, 5'390'000'000ull);
  EXPECT_LT(delay, 5'410'000'000ull);
}

// The broker's duration flags read the same grammar as the CLI's and the
// replay tool's (codec/time_text.hpp).
TEST_F(Cli, TheBrokersDurationFlagsReadTheSameGrammar) {
  Running bad(LEDGERQ_BROKER_PATH, {"--data", (dir_.path() / "other").string(), "--job-retention", "soon"});
  const Outcome refused = bad.wait();
  EXPECT_NE(refused.status, 0);
  EXPECT_NE(refused.err.find("is not a duration"), std::string::npos) << refused.err;
  Running help(LEDGERQ_BROKER_PATH, {"--help"});
  const Outcome h = help.wait();
  EXPECT_NE(h.out.find("DURATION"), std::string::npos) << h.out;
  EXPECT_EQ(h.out.find("FLOAT:FLOAT [UNIT]"), std::string::npos) << "CLI11's internals, not ours\n" << h.out;
}

TEST_F(Cli, StatusAndCancelAnswerWithExitCodesScriptsCanRelyOn) {
  ok({"ds", "create", "images"});
  ok({"submit", "images", "j1", "--body", "1"});
  EXPECT_EQ(ok({"status", "images", "j1"})["status"]["status"], "submitted");

  auto missing = run({"status", "images", "nope"});
  EXPECT_EQ(missing.status, 3);
  EXPECT_NE(missing.err.find("not_found (404)"), std::string::npos) << missing.err;
  EXPECT_TRUE(missing.out.empty());
  EXPECT_EQ(run({"status", "no-such-ds", "j1"}).status, 3);

  auto other = run({"--client-id", "app-2", "cancel", "images", "j1"});
  EXPECT_EQ(other.status, 5) << other.err;
  EXPECT_NE(other.err.find("forbidden (403)"), std::string::npos) << other.err;
  EXPECT_EQ(ok({"status", "images", "j1"})["status"]["status"], "submitted");  // nothing changed

  auto conflict = run({"submit", "images", "j1", "--body", "2"});
  EXPECT_EQ(conflict.status, 4) << conflict.err;
  EXPECT_NE(conflict.err.find("conflict (409)"), std::string::npos);

  EXPECT_EQ(ok({"cancel", "images", "j1"})["status"]["status"], "cancelled");
  EXPECT_EQ(run({"update", "images", "j1", "accepted"}).status, 4);  // out of a terminal status: 409
  EXPECT_EQ(ok({"status", "images", "j1"})["status"]["status"], "cancelled");
}

TEST_F(Cli, JobsLookupCountScanRetryDelete) {
  ok({"ds", "create", "q"});
  for (int i = 1; i <= 5; ++i) ok({"submit", "q", "j" + std::to_string(i), "--body", std::to_string(i)});
  ok({"update", "q", "j2", "failed", "--error", "disk full"});
  ok({"update", "q", "j3", "complete", "--response", R"({"ok":true})"});

  auto counts = ok({"count", "q"})["counts"];
  EXPECT_EQ(counts["submitted"], 3);
  EXPECT_EQ(counts["failed"], 1);
  EXPECT_EQ(counts["complete"], 1);
  EXPECT_EQ(count("q", "submitted"), 3u);
  EXPECT_EQ(ok({"count", "q", "submitted", "--due", "now"})["count"], 3);

  auto failed = ok({"jobs", "q", "--status", "failed"})["jobs"];
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["job"], "j2");
  EXPECT_EQ(failed[0]["error"], "disk full");
  EXPECT_EQ(ok({"jobs", "q"})["jobs"].size(), 5u);
  EXPECT_EQ(ok({"jobs", "q", "--client", "someone-else"})["jobs"].size(), 0u);
  auto cut = ok({"jobs", "q", "--limit", "2"});
  EXPECT_EQ(cut["jobs"].size(), 2u);
  EXPECT_FALSE(cut["continuation"].get<std::string>().empty());

  auto page1 = ok({"scan", "q", "--status", "submitted", "--limit", "2"});
  ASSERT_EQ(page1["jobs"].size(), 2u);
  const std::string cont = page1["continuation"];
  ASSERT_FALSE(cont.empty());
  auto page2 = ok({"scan", "q", "--status", "submitted", "--limit", "2", "--continuation", cont});
  ASSERT_EQ(page2["jobs"].size(), 1u);
  EXPECT_EQ(page2["continuation"], "");

  EXPECT_EQ(ok({"lookup", "q", "j3", "unknown"})["jobs"][0]["response"], json::parse(R"({"ok":true})"));
  EXPECT_EQ(ok({"retry", "q", "--attempts", "3"})["retried"], 1);
  EXPECT_EQ(count("q", "retrying"), 1u);
  EXPECT_EQ(count("q", "failed"), 0u);
  EXPECT_EQ(ok({"delete", "q", "--status", "submitted", "--limit", "2"})["deleted"], 2);
  EXPECT_EQ(count("q", "submitted"), 1u);

  auto no_status = run({"delete", "q"});  // would delete everything: refused before sending
  EXPECT_EQ(no_status.status, 2);
  EXPECT_NE(no_status.err.find("--status"), std::string::npos) << no_status.err;
  EXPECT_EQ(ok({"jobs", "q"})["jobs"].size(), 3u);
}

TEST_F(Cli, RetryAndDeleteNamedJobs) {
  ok({"ds", "create", "q"});
  for (int i = 1; i <= 4; ++i) ok({"submit", "q", "j" + std::to_string(i), "--body", std::to_string(i)});
  for (const char* j : {"j1", "j2", "j3"}) ok({"update", "q", j, "failed", "--error", "disk full"});

  // j4 is submitted, not failed: left alone; j1 and j3 only, not j2.
  EXPECT_EQ(ok({"retry", "q", "--job", "j1", "--job", "j4", "--job", "j3"})["retried"], 2);
  EXPECT_EQ(ok({"status", "q", "j1"})["status"]["status"], "retrying");
  EXPECT_EQ(ok({"status", "q", "j2"})["status"]["status"], "failed");
  EXPECT_EQ(ok({"status", "q", "j3"})["status"]["status"], "retrying");
  EXPECT_EQ(ok({"status", "q", "j4"})["status"]["status"], "submitted");

  // By id, no status needed: whatever each job's status.
  EXPECT_EQ(ok({"delete", "q", "--job", "j4", "--job", "j1", "--job", "unknown"})["deleted"], 2);
  auto left = ok({"jobs", "q"})["jobs"];
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0]["job"], "j2");
  EXPECT_EQ(left[1]["job"], "j3");
}

TEST_F(Cli, HistoryPrintsAJobsEventsInJsonAndText) {
  ok({"ds", "create", "q"});
  const auto submitted = ok({"submit", "q", "j1", "--body", "1"})["timestamp"].get<std::uint64_t>();
  ok({"submit", "q", "j2", "--body", "2"});
  ok({"update", "q", "j1", "accepted"});
  ok({"update", "q", "j2", "failed", "--error", "not mine"});
  ok({"update", "q", "j1", "complete", "--response", R"({"ok":true})"});
  auto events = ok({"history", "q", "j1"})["events"];
  ASSERT_EQ(events.size(), 3u) << events.dump();
  EXPECT_EQ(events[0]["type"], "submit");
  EXPECT_EQ(events[0]["at"], submitted);
  EXPECT_EQ(events[1]["type"], "status");
  EXPECT_EQ(events[1]["status"], "accepted");
  EXPECT_EQ(events[2]["status"], "complete");
  EXPECT_EQ(events[2]["response"], json::parse(R"({"ok":true})"));
  for (const auto& e : events) EXPECT_EQ(e["job"], "j1");
  auto text = run({"--text", "history", "q", "j1"});
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_NE(text.out.find("submit"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("complete"), std::string::npos) << text.out;
  EXPECT_TRUE(std::regex_search(text.out, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)"))) << text.out;
  EXPECT_EQ(run({"history", "q", "nobody"}).status, run({"status", "q", "nobody"}).status);  // 404's exit code
}

TEST_F(Cli, SubmitBatchReportsEachJobAndExitsWithTheFirstRefusal) {
  ok({"ds", "create", "q"});
  ok({"submit", "q", "b", "--body", "1"});
  auto o = run({"submit-batch", "q", "--jobs", "-"},
               R"([{"job":"a","request":{"x":1}},{"job":"b","request":2},{"job":"c","options":{"priority":3}}])");
  EXPECT_EQ(o.status, 4) << o.err;
  EXPECT_NE(o.err.find("1 of 3 refused"), std::string::npos) << o.err;
  auto results = json::parse(o.out)["results"];
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0]["code"], 200);
  EXPECT_EQ(results[1]["code"], 409);
  EXPECT_EQ(results[2]["code"], 200);
  EXPECT_EQ(ok({"status", "q", "c"})["status"]["priority"], 3);
}

TEST_F(Cli, StatsShowsTheBrokersFigures) {
  ok({"ds", "create", "q"});
  ok({"submit", "q", "j1"});
  auto st = ok({"stats"});
  EXPECT_EQ(st["version"], 1);
  EXPECT_GE(st["requests"].get<std::uint64_t>(), 2u);
  EXPECT_GE(st["transactions"].get<std::uint64_t>(), 2u);
  EXPECT_GE(st["log_entries"].get<std::uint64_t>(), 2u);
  EXPECT_GT(st["map_size"].get<std::uint64_t>(), 0u);
  ASSERT_EQ(st["datasources"].size(), 1u);
  EXPECT_EQ(st["datasources"][0]["datasource"], "q");
  EXPECT_EQ(st["datasources"][0]["counts"]["submitted"], 1);

  auto text = run({"--text", "stats"});
  ASSERT_EQ(text.status, 0) << text.err;
  EXPECT_NE(text.out.find("requests "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("map_size "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("GiB"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("DATASOURCE"), std::string::npos) << text.out;
  // Every field of the reply is printed, whatever the broker adds later.
  for (const auto& [k, v] : st.items())
    if (!v.is_array() && !v.is_object()) {
      EXPECT_NE(text.out.find(k), std::string::npos) << k;
    }
}

TEST_F(Cli, TextOutputIsReadableAndJsonIsTheDefaultOffATerminal) {
  ok({"ds", "create", "images"});
  ok({"submit", "images", "j1", "--body", R"({"w":640})"});
  auto st = run({"status", "images", "j1", "--text"});  // global flags may follow the command
  ASSERT_EQ(st.status, 0) << st.err;
  EXPECT_TRUE(std::regex_search(st.out, std::regex(R"(\nstatus +submitted\n)"))) << st.out;
  // Times as every ledgerq program prints them: RFC 3339, UTC, microseconds.
  EXPECT_TRUE(std::regex_search(st.out, std::regex(R"(\nupdated +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z\n)"))) << st.out;
  EXPECT_TRUE(st.out.find('{') == std::string::npos) << st.out;
  auto list = run({"--text", "ds", "list"});
  EXPECT_NE(list.out.find("DATASOURCE"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("images"), std::string::npos);
  auto jobs = run({"--text", "jobs", "images"});
  EXPECT_NE(jobs.out.find("JOB"), std::string::npos) << jobs.out;
  EXPECT_NE(jobs.out.find("j1"), std::string::npos);
  EXPECT_TRUE(json::accept(run({"status", "images", "j1"}).out));
  EXPECT_TRUE(json::accept(run({"--json", "ds", "list"}).out));
  EXPECT_EQ(run({"--json", "--text", "ping"}).status, 2);
}

TEST_F(Cli, WatchFollowsAJobLiveUntilItEnds) {
  ok({"ds", "create", "q"});
  ok({"submit", "q", "j1", "--body", "1"});
  Running w(LEDGERQ_CLI_PATH, {"watch", "q", "j1", "--timeout", "10s"}, env());
  auto first = w.line(5s);
  ASSERT_TRUE(first) << "watch printed nothing";
  EXPECT_EQ(json::parse(*first)["status"], "submitted");
  ok({"update", "q", "j1", "accepted"});
  ok({"update", "q", "j1", "complete", "--response", R"("done")"});
  auto o = w.wait();
  EXPECT_EQ(o.status, 0) << o.err;
  std::vector<std::string> statuses;
  std::istringstream lines(o.out);
  for (std::string l; std::getline(lines, l);) statuses.push_back(json::parse(l)["status"]);
  EXPECT_EQ(statuses, (std::vector<std::string>{"submitted", "accepted", "complete"}));
}

TEST_F(Cli, WatchExitCodesForAnEndedJobAFailureAndATimeout) {
  ok({"ds", "create", "q"});
  ok({"submit", "q", "done", "--body", "1"});
  ok({"update", "q", "done", "complete"});
  EXPECT_EQ(run({"watch", "q", "done"}).status, 0);  // already ended: at once
  ok({"submit", "q", "bad", "--body", "1"});
  ok({"update", "q", "bad", "failed", "--error", "boom"});
  auto failed = run({"watch", "q", "bad"});
  EXPECT_EQ(failed.status, 10) << failed.err;
  EXPECT_EQ(run({"watch", "q", "bad", "--until", "failed"}).status, 0);
  ok({"submit", "q", "slow", "--body", "1"});
  const auto t0 = std::chrono::steady_clock::now();
  auto slow = run({"watch", "q", "slow", "--timeout", "400ms"});
  EXPECT_EQ(slow.status, 9) << slow.err;
  EXPECT_NE(slow.err.find("timed out"), std::string::npos) << slow.err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(run({"watch", "q", "nope"}).status, 3);
  EXPECT_EQ(run({"watch", "q", "slow", "--until", "bogus"}).status, 2);
}

TEST_F(Cli, WatchAClientAndFollowADatasource) {
  ok({"ds", "create", "q"});
  ok({"submit", "q", "a", "--body", "1"});
  ok({"submit", "q", "b", "--body", "2"});
  ok({"cancel", "q", "a"});
  auto w = run({"watch", "--from", "0", "--count", "3", "--timeout", "10s"});
  ASSERT_EQ(w.status, 0) << w.err;
  std::vector<std::pair<std::string, std::string>> seen;
  std::istringstream wl(w.out);
  for (std::string l; std::getline(wl, l);) {
    auto n = json::parse(l);
    seen.emplace_back(n["data"]["job"], n["data"]["status"]);
  }
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::string>>{
                      {"a", "submitted"}, {"b", "submitted"}, {"a", "cancelled"}}));

  auto f = run({"follow", "q", "--from", "0", "--count", "3", "--timeout", "10s"});
  ASSERT_EQ(f.status, 0) << f.err;
  std::vector<std::string> entries;
  std::istringstream fl(f.out);
  for (std::string l; std::getline(fl, l);) {
    auto e = json::parse(l);
    entries.push_back(e["type"].get<std::string>() + ":" + e["job"].get<std::string>());
  }
  EXPECT_EQ(entries, (std::vector<std::string>{"request:a", "request:b", "cancel:a"}));
  EXPECT_EQ(run({"follow", "nope", "--count", "1"}).status, 3);
}

TEST_F(Cli, BadFlagsAndBadJsonAreRefusedClearlyAndChangeNothing) {
  ok({"ds", "create", "q"});
  ok({"submit", "q", "j1", "--body", "1"});
  struct Case {
    std::vector<std::string> args;
    int status;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"submit", "q"}, 2, "job is required"},
      {{"submit", "q", "j2", "--body", "{\"w\": 64"}, 2, "invalid JSON in the argument"},
      {{"submit", "q", "j2", "--body", "{w:1}"}, 2, "line 1, column 2"},
      {{"submit", "q", "j2", "--body", "@/no/such/file.json"}, 2, "cannot read file"},
      {{"submit", "q", "j2", "--body", "1", "--priority", "7"}, 2, "priority"},
      {{"submit", "q", "j2", "--body", "1", "--attempts", "0"}, 2, "attempts"},
      {{"submit", "q", "j2", "--body", "1", "--delay", "soon"}, 2, "not a duration"},
      {{"submit", "q", "j2", "--options", "[1]"}, 2, "expected a JSON object"},
      {{"submit", "q", "j2", "--options", R"({"priority":"high"})"}, 2, "field 'options.priority'"},
      {{"submit", "q", "j2", "--bogus"}, 2, "--bogus"},
      {{"frobnicate"}, 2, "unknown command 'frobnicate'"},
      {{}, 2, "subcommand"},
      {{"--timeout", "soon", "ping"}, 2, "not a duration"},
      {{"count", "q", "sleeping"}, 2, "sleeping"},
      {{"submit", "q", std::string(200, 'x'), "--body", "1"}, 6, "too_large (413)"},
      {{"submit", "bad name!", "j2", "--body", "1"}, 6, "bad_request (400)"},
      {{"ds", "create", "bad name!"}, 6, "bad_request (400)"},
      {{"submit-batch", "q", "--jobs", R"({"job":"x"})"}, 2, "expected a JSON array"},
      {{"call", "frobnicate"}, 2, "unknown command 'frobnicate'"},
      {{"call", "submit", "--body", R"({"datasource":"q"})"}, 2, "missing field 'job'"},
  };
  for (const auto& c : cases) {
    auto o = run(c.args, "");
    EXPECT_EQ(o.status, c.status) << ::testing::PrintToString(c.args) << "\n" << o.err;
    EXPECT_NE(o.err.find(c.says), std::string::npos) << ::testing::PrintToString(c.args) << "\nstderr: " << o.err;
    EXPECT_TRUE(o.out.empty()) << ::testing::PrintToString(c.args) << "\nstdout: " << o.out;
  }
  // Nothing changed: still one datasource, one job, as it was.
  auto list = ok({"ds", "list"})["datasources"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["counts"]["submitted"], 1);
  EXPECT_EQ(ok({"jobs", "q"})["jobs"].size(), 1u);
  EXPECT_EQ(ok({"status", "q", "j1"})["status"]["request"], nullptr);
}

TEST_F(Cli, CallSendsAnyCommandAsJsonAndPrintsTheWholeReply) {
  ok({"ds", "create", "q"});
  ok({"submit", "q", "j1", "--body", R"({"n":1})"});
  auto d = ok({"call", "dequeue", "--body", R"({"datasource":"q","worker":"me","limit":5})"});
  EXPECT_EQ(d["code"], 200);
  ASSERT_EQ(d["jobs"].size(), 1u);
  EXPECT_EQ(d["jobs"][0]["request"], json::parse(R"({"n":1})"));
  const auto token = d["jobs"][0]["token"].get<std::uint64_t>();
  auto a = ok({"call", "ack", "--body", "-"},
              R"({"datasource":"q","acks":[{"job":"j1","token":)" + std::to_string(token) +
                  R"(,"outcome":"success","response":"fine"}]})");
  EXPECT_EQ(a["results"][0]["code"], 200);
  EXPECT_EQ(ok({"status", "q", "j1"})["status"]["response"], "fine");
  // The same ack again: its token is stale now (409): the call fails with
  // the item's exit status, the reply printed whole.
  auto stale = run({"call", "ack", "--body", R"({"datasource":"q","acks":[{"job":"j1","token":)" +
                                                   std::to_string(token) + R"(,"outcome":"success"}]})"});
  EXPECT_EQ(stale.status, 4) << stale.err;
  EXPECT_EQ(json::parse(stale.out)["results"][0]["code"], 409);

  auto nf = run({"call", "status", "--body", R"({"datasource":"q","job":"zz","client":"app-1"})"});
  EXPECT_EQ(nf.status, 3);
  EXPECT_EQ(json::parse(nf.out)["code"], 404);  // the reply is printed, errors included
}

TEST_F(Cli, NoBrokerTimesOutQuicklyWithItsOwnExitCode) {
  const auto t0 = std::chrono::steady_clock::now();
  auto o = run({"--router", "tcp://127.0.0.1:9", "--timeout", "300ms", "ping"});
  EXPECT_EQ(o.status, 9) << o.err;
  EXPECT_NE(o.err.find("no answer from tcp://127.0.0.1:9"), std::string::npos) << o.err;
  auto w = run({"watch", "q", "j1", "--timeout", "300ms"},
               "", {{"LEDGERQ_ROUTER", "tcp://127.0.0.1:9"}, {"LEDGERQ_STATUS_PUB", "tcp://127.0.0.1:10"}});
  EXPECT_EQ(w.status, 9) << w.err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

// --- the worker commands ----------------------------------------------------------

TEST_F(Cli, DequeuePrintsTheTokenThatAckNeedsAndAStaleTokenIsRefused) {
  ok({"ds", "create", "images"});
  ok({"submit", "images", "j1", "--body", R"({"w":640,"raw":{"$bin":"00ff"}})"});
  auto jobs = ok({"dequeue", "images", "--count", "5", "--lease", "1m", "--worker", "w-1"})["jobs"];
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["job"], "j1");
  EXPECT_EQ(jobs[0]["worker"], "w-1");
  EXPECT_EQ(jobs[0]["request"], json::parse(R"({"w":640,"raw":{"$bin":"00ff"}})"));
  const std::string token = std::to_string(jobs[0]["token"].get<std::uint64_t>());
  EXPECT_TRUE(ok({"dequeue", "images"})["jobs"].empty()) << "nothing else is eligible";

  auto stale = run({"ack", "images", "j1", "--token", "99", "--success"});
  EXPECT_EQ(stale.status, 4) << stale.err;
  EXPECT_NE(stale.err.find("stale"), std::string::npos) << stale.err;
  EXPECT_EQ(count("images", "accepted"), 1u) << "the refused ack changed nothing";
  EXPECT_EQ(run({"ack", "images", "j1", "--token", token}).status, 2) << "an outcome is required";
  EXPECT_EQ(run({"ack", "images", "j1", "--token", token, "--failure", "--response", "1"}).status, 2);

  auto r = ok({"ack", "images", "j1", "--token", token, "--success", "--response", R"({"url":"s3://x"})"});
  EXPECT_EQ(r["results"][0]["code"], 200);
  auto st = ok({"lookup", "images", "j1"})["jobs"][0];
  EXPECT_EQ(st["status"], "complete");
  EXPECT_EQ(st["response"], json::parse(R"({"url":"s3://x"})"));
  EXPECT_EQ(run({"ack", "images", "j1", "--token", token, "--success"}).status, 4) << "acked already";
}

TEST_F(Cli, WorkAcksEachJobByItsCommandsExitStatus) {
  // A failed job waits an hour for its retry: the later runs below lease
  // only the jobs submitted for them, however slowly the test runs.
  ok({"ds", "create", "images", "--retry-base", "1h"});
  ok({"submit", "images", "good", "--body", R"({"n":1})"});
  ok({"submit", "images", "bad", "--body", R"({"n":2})"});
  // The body on stdin, the job in the environment; stdout the response,
  // stderr the error.
  auto o = run({"work", "images", "--max-jobs", "2", "--", "sh", "-c",
                R"(body=$(cat); if [ "$LEDGERQ_JOB" = bad ]; then echo "no luck with $body" >&2; exit 1; fi
                   printf '{"job":"%s","attempt":%s,"body":%s}
' "$LEDGERQ_JOB" "$LEDGERQ_ATTEMPT" "$body")"});
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_NE(o.out.find(R"("outcome":"success")"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find(R"("outcome":"failure")"), std::string::npos) << o.out;
  auto jobs = ok({"lookup", "images", "good", "bad"})["jobs"];
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0]["status"], "complete");
  EXPECT_EQ(jobs[0]["response"], json::parse(R"({"job":"good","attempt":1,"body":{"n":1}})"));
  EXPECT_EQ(jobs[1]["status"], "retrying") << "the broker's retry policy applies";
  EXPECT_EQ(jobs[1]["error"], R"(exit status 1: no luck with {"n":2})");

  // Output that is not JSON is a string; more than a body may hold fails the job.
  ok({"submit", "images", "text"});
  ok({"submit", "images", "huge"});
  o = run({"work", "images", "--max-jobs", "2", "--", "sh", "-c",
           R"(if [ "$LEDGERQ_JOB" = text ]; then echo 'plain words'; else head -c 2000000 /dev/zero; fi)"});
  ASSERT_EQ(o.status, 0) << o.err;
  jobs = ok({"lookup", "images", "text", "huge"})["jobs"];
  EXPECT_EQ(jobs[0]["response"], "plain words");
  EXPECT_EQ(jobs[1]["status"], "retrying");
  EXPECT_NE(jobs[1]["error"].get<std::string>().find("over 1048576 bytes"), std::string::npos) << jobs[1];

  // The limit is on the encoded body, not on stdout: a string of
  // 1048576 - 5 bytes (a str32 header is 5) is a body of exactly 1 MiB and
  // is the response; one byte more fails the job, which is not left leased.
  ok({"submit", "images", "edge"});
  ok({"submit", "images", "over"});
  o = run({"work", "images", "--max-jobs", "2", "--", "sh", "-c",
           R"(n=1048571; [ "$LEDGERQ_JOB" = over ] && n=1048572; head -c "$n" /dev/zero | tr '\0' a)"});
  ASSERT_EQ(o.status, 0) << o.err;
  const auto edge = ok({"status", "images", "edge"})["status"];  // one at a time: a reply holds 1 MiB of items
  EXPECT_EQ(edge["status"], "complete") << edge["error"];
  EXPECT_EQ(edge.value("response", json("")).get<std::string>().size(), 1048571u);
  const auto over = ok({"status", "images", "over"})["status"];
  EXPECT_EQ(over["status"], "retrying") << over["error"];
  EXPECT_NE(over["error"].get<std::string>().find("over 1 MiB"), std::string::npos) << over["error"];
}

// The thread of process `pid` that libclient runs its I/O on (it names it
// ledgerq-io), once it sleeps (waits in zmq_poll); nullopt after 5 s.
std::optional<pid_t> sleeping_io_thread(pid_t pid) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  while (std::chrono::steady_clock::now() < deadline) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(tasks, ec)) {
      std::ifstream comm(e.path() / "comm"), stat(e.path() / "stat");
      std::string name, st((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
      const auto paren = st.rfind(')');
      if (std::getline(comm, name) && name == "ledgerq-io" && paren != std::string::npos && paren + 2 < st.size() &&
          st[paren + 2] == 'S')
        return std::stoi(e.path().filename().string());
    }
    std::this_thread::sleep_for(10ms);
  }
  return std::nullopt;
}

// `work` handles SIGCHLD, and the kernel gives a process's signal to any
// thread that does not block it. glibc's posix_spawn blocks every signal on
// the spawning thread until the child has exec'd, so a command quick to
// exit on a loaded machine had its SIGCHLD handled on the Worker's I/O
// thread: zmq_poll failed with EINTR, the thread ended, the ack failed with
// closed (1002), and `work` retried its dequeue for ever. Here a SIGCHLD is
// sent to that thread itself: the job is still acked and `work` ends.
TEST_F(Cli, WorkSurvivesASigchldOnItsWorkersThread) {
  ok({"ds", "create", "images"});
  ok({"submit", "images", "slow", "--body", "1"});
  Running r(LEDGERQ_CLI_PATH, {"work", "images", "--max-jobs", "1", "--", "sh", "-c", "sleep 1; cat"}, env());
  const auto io = sleeping_io_thread(r.pid());
  ASSERT_TRUE(io) << "no ledgerq-io thread in `ledgerq work`";
  ASSERT_EQ(::syscall(SYS_tgkill, r.pid(), *io, SIGCHLD), 0);
  auto o = r.wait();
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.err, "");
  const auto st = ok({"status", "images", "slow"})["status"];
  EXPECT_EQ(st["status"], "complete") << st;
  EXPECT_EQ(st["response"], 1);
}

// Bodies and ids are byte strings, not UTF-8 text (PROTOCOL.md §4): a job
// whose body or id is not UTF-8 must not end `work` (and with it every
// command it runs) nor keep the jobs after it waiting; dequeue must print it.
TEST_F(Cli, WorkAndDequeueSurviveBodiesAndIdsThatAreNotUtf8) {
  namespace lq = ledgerq::client;
  ok({"ds", "create", "images"});
  lq::ClientOptions co;
  co.router = broker_->router();
  co.status_pub = broker_->status_pub();
  lq::Client client("app-1", co);
  const std::string not_utf8 = "\xa4" "caf" "\xe9";  // the msgpack str "caf\xe9" (Latin-1)
  const std::string odd_id = "id-\xff";
  client.submit("images", "latin1", lq::Payload::from_msgpack(not_utf8));
  client.submit("images", odd_id, lq::Payload::from_json("7"));
  client.submit("images", "plain", lq::Payload::from_json("8"));
  // cat: the body read is the response.
  auto o = run({"work", "images", "--max-jobs", "3", "--", "cat"});
  ASSERT_EQ(o.status, 0) << o.err;
  auto jobs = ok({"lookup", "images", "latin1", odd_id, "plain"})["jobs"];
  ASSERT_EQ(jobs.size(), 3u) << jobs;
  EXPECT_EQ(jobs[0]["status"], "complete") << jobs[0];
  EXPECT_EQ(jobs[0]["response"], "caf\xef\xbf\xbd") << "a byte that is not UTF-8 reads as U+FFFD";
  EXPECT_EQ(jobs[1]["status"], "complete") << jobs[1];
  EXPECT_EQ(jobs[1]["response"], 7);
  EXPECT_EQ(jobs[2]["status"], "complete") << jobs[2];
  EXPECT_EQ(jobs[2]["response"], 8);
  EXPECT_NE(o.out.find("id-\xef\xbf\xbd"), std::string::npos) << "the report line names the job\n" << o.out;

  // dequeue prints the lease, and with it the token an ack needs.
  client.submit("images", "later", lq::Payload::from_msgpack(not_utf8));
  auto leased = ok({"dequeue", "images"})["jobs"];
  ASSERT_EQ(leased.size(), 1u);
  EXPECT_EQ(leased[0]["job"], "later");
  EXPECT_EQ(leased[0]["request"], "caf\xef\xbf\xbd");
  EXPECT_EQ(leased[0]["token"], 1);
}

// The command runs until the test releases it, and the test releases it
// only once the broker's log shows two checkpoints (heartbeats) past the
// first lease's deadline: how fast the machine is decides how long the test
// takes, never what it sees.
TEST_F(Cli, WorkHeartbeatsKeepTheLeaseOfACommandThatOutlivesIt) {
  ok({"ds", "create", "images"});
  ok({"submit", "images", "slow"});
  const auto release = dir_.path() / "release";
  Running w(LEDGERQ_CLI_PATH,
            {"work", "images", "--lease", "3s", "--max-jobs", "1", "--", "sh", "-c",
             R"(while [ ! -e "$0" ]; do sleep 0.05; done; echo done)", release.string()},
            env());
  const auto deadline = std::chrono::steady_clock::now() + 40s;
  bool renewed = false;
  Outcome h;
  while (!renewed && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    h = run({"history", "images", "slow"});
    if (h.status != 0) continue;
    std::uint64_t first_until = 0;
    int past = 0;
    const json history = json::parse(h.out);
    for (const auto& e : history["events"]) {
      const std::string type = e["type"];
      ASSERT_NE(type, "expire") << "the lease ran out\n" << h.out;
      if (type == "lease" && first_until == 0) first_until = e["lease_until"].get<std::uint64_t>();
      if (type == "checkpoint" && first_until != 0 && e["at"].get<std::uint64_t>() > first_until) ++past;
    }
    renewed = past >= 2;
  }
  std::ofstream(release).put('\n');
  ASSERT_TRUE(renewed) << "no two heartbeats past the first lease's end\n" << h.out << h.err;
  auto o = w.wait(30s);
  ASSERT_EQ(o.status, 0) << o.err;
  auto job = ok({"lookup", "images", "slow"})["jobs"][0];
  EXPECT_EQ(job["status"], "complete") << job;
  EXPECT_EQ(job["response"], "done");
  EXPECT_EQ(job["attempts_made"], 1) << "the lease never ran out";
  EXPECT_EQ(job["token"], 1);
}

TEST_F(Cli, WorkRunsUpToConcurrencyCommandsAtOnce) {
  ok({"ds", "create", "images"});
  ok({"submit", "images", "a"});
  ok({"submit", "images", "b"});
  // Each command marks its start and waits (5 s at most) for the other's
  // mark: both complete only if both ran at the same time.
  const std::string marks = dir_.path().string();
  auto o = run({"work", "images", "--concurrency", "2", "--max-jobs", "2", "--", "sh", "-c",
                R"(touch "$0/$LEDGERQ_JOB"; other=a; [ "$LEDGERQ_JOB" = a ] && other=b
                   for i in $(seq 50); do [ -e "$0/$other" ] && { echo together; exit 0; }; sleep 0.1; done; exit 1)",
                marks});
  ASSERT_EQ(o.status, 0) << o.err;
  auto jobs = ok({"lookup", "images", "a", "b"})["jobs"];
  EXPECT_EQ(jobs[0]["status"], "complete") << jobs[0];
  EXPECT_EQ(jobs[1]["status"], "complete") << jobs[1];
}

TEST_F(Cli, WorkStopsOnSigtermAfterTheRunningCommandFinishesAndIsAcked) {
  ok({"ds", "create", "images"});
  ok({"submit", "images", "j1"});
  ok({"submit", "images", "j2"});
  const auto started = dir_.path() / "started";
  Running w(LEDGERQ_CLI_PATH, {"work", "images", "--", "sh", "-c", R"(touch "$0"; sleep 1; echo finished)",
                               started.string()},
            env());
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!std::filesystem::exists(started) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(std::filesystem::exists(started)) << "the command never started";
  w.signal(SIGTERM);
  auto o = w.wait();
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_NE(o.err.find("stopping"), std::string::npos) << o.err;
  auto jobs = ok({"lookup", "images", "j1", "j2"})["jobs"];
  EXPECT_EQ(jobs[0]["status"], "complete") << "the running command finished and was acked";
  EXPECT_EQ(jobs[0]["response"], "finished");
  EXPECT_EQ(jobs[1]["status"], "submitted") << "no job is taken after the signal";
}

}  // namespace
}  // namespace ledgerq::testing
