// ledgerq-web run as a process against a real broker process: its
// /metrics parsed as the Prometheus text format and followed as jobs
// arrive and the broker goes away, its access rules (listen address, Basic
// auth, Host), and its JSON API's validation and actions.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include "broker_call.hpp"     // tools/common
#include "transport/keys.hpp"
#include "broker_process.hpp"  // tools/common
#include "cli_process.hpp"     // tests/cli

namespace ledgerq::testing {
namespace {

using tools::json;
using namespace std::chrono_literals;

// --- the Prometheus text format (0.0.4), parsed strictly ------------------------------

struct Exposition {
  std::map<std::string, std::string> types;  ///< family -> counter/gauge/...
  std::map<std::string, double> samples;     ///< `name{labels}` as written -> value

  double at(const std::string& series) const {
    auto it = samples.find(series);
    if (it == samples.end()) throw std::runtime_error("no sample " + series);
    return it->second;
  }
};

// Every line must be a HELP, a TYPE or a sample of a family whose TYPE came
// before; names and label names as the format allows; label values quoted
// with only \\, \" and \n escapes; each series once. Failures name the line.
Exposition parse_exposition(const std::string& text) {
  static const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*)");
  static const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))");
  static const std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")*)?\})? ([^ ]+))");
  Exposition e;
  std::map<std::string, bool> helped;
  std::istringstream in(text);
  std::string line;
  EXPECT_TRUE(text.empty() || text.back() == '\n') << "the exposition must end with a newline";
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, help)) {
      EXPECT_FALSE(helped[m[1]]) << "two HELP lines for " << m[1];
      helped[m[1]] = true;
    } else if (std::regex_match(line, m, type)) {
      EXPECT_FALSE(e.types.contains(m[1])) << "two TYPE lines for " << m[1];
      e.types[m[1]] = m[2];
      if (m[2] == "counter") {
        EXPECT_TRUE(std::string(m[1]).ends_with("_total")) << m[1];
      }
    } else if (std::regex_match(line, m, sample)) {
      const std::string name = m[1];
      EXPECT_TRUE(e.types.contains(name)) << "a sample before its TYPE: " << line;
      const std::string series = name + std::string(m[2]);
      EXPECT_FALSE(e.samples.contains(series)) << "a series twice: " << line;
      std::size_t used = 0;
      const double v = std::stod(m[7], &used);
      EXPECT_EQ(used, std::string(m[7]).size()) << "not a number: " << line;
      e.samples[series] = v;
    } else {
      ADD_FAILURE() << "not a line of the text format: '" << line << "'";
    }
  }
  return e;
}

// --- the processes ------------------------------------------------------------------

// A running ledgerq-web; its port from its ready line.
class Web {
 public:
  explicit Web(std::vector<std::string> args) : proc_(LEDGERQ_WEB_PATH, with_timeout(std::move(args))) {
    const auto line = proc_.line(10s);
    if (!line) throw std::runtime_error("ledgerq-web did not print its ready line: " + proc_.wait(1s).err);
    std::smatch m;
    static const std::regex ready(R"(ledgerq-web ready: http://([^ ]+):([0-9]+) router=.*)");
    if (!std::regex_match(*line, m, ready)) throw std::runtime_error("unexpected ready line: " + *line);
    port_ = std::stoi(m[2]);
  }
  // Broker calls wait 5 s, unless the test says: a write waits on fsync,
  // which a loaded machine can stretch past a second. Tests whose broker is
  // gone give a short --timeout so that its "no answer" comes quickly.
  static std::vector<std::string> with_timeout(std::vector<std::string> args) {
    if (std::find(args.begin(), args.end(), "--timeout") == args.end()) args.insert(args.end(), {"--timeout", "5s"});
    return args;
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(10, 0);
    return c;
  }

 private:
  Running proc_;
  int port_ = 0;
};

class WebTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = std::make_unique<tools::BrokerProcess>(LEDGERQ_BROKER_PATH, dir_.path() / "data");
    conn_ = std::make_unique<tools::Connection>(tools::BrokerAddress{broker_->router(), std::nullopt, 5s});
    ok("ds_create", {{"datasource", "images"}});
  }

  json ok(std::string_view command, const json& fields) {
    const auto a = conn_->call(command, fields);
    EXPECT_EQ(a.code, 200u) << command << ": " << a.message;
    return a.fields;
  }
  void submit(const std::string& job, const std::string& client = "app-1") {
    ok("submit", {{"datasource", "images"}, {"job", job}, {"client", client}, {"request", {{"w", 640}}}});
  }
  std::unique_ptr<Web> web(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--router", broker_->router()};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<Web>(args);
  }
  static Exposition scrape(const Web& w) {
    auto res = w.client().Get("/metrics");
    if (!res) throw std::runtime_error("no answer from /metrics");
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    return parse_exposition(res->body);
  }

  tools::TempDir dir_;
  std::unique_ptr<tools::BrokerProcess> broker_;
  std::unique_ptr<tools::Connection> conn_;
};

TEST_F(WebTest, MetricsFollowTheBrokerAndSayWhenItIsGone) {
  auto w = web({"--timeout", "500ms"});  // the broker is killed below
  const Exposition before = scrape(*w);
  EXPECT_EQ(before.at("ledgerq_up"), 1);
  EXPECT_EQ(before.types.at("ledgerq_requests_total"), "counter");
  EXPECT_EQ(before.types.at("ledgerq_jobs"), "gauge");
  EXPECT_EQ(before.at(R"(ledgerq_build_info{version=")" LEDGERQ_RELEASE R"(",protocol="1"})"), 1);
  EXPECT_EQ(before.at(R"(ledgerq_jobs{datasource="images",status="submitted"})"), 0);
  EXPECT_EQ(before.at(R"(ledgerq_datasource_paused{datasource="images"})"), 0);
  for (const char* name : {"ledgerq_transactions_total", "ledgerq_bad_requests_total", "ledgerq_leases_expired_total",
                           "ledgerq_jobs_collected_total", "ledgerq_log_entries_trimmed_total",
                           "ledgerq_parked_dequeues_total", "ledgerq_apply_seconds_total", "ledgerq_commit_seconds_total",
                           "ledgerq_log_entries", "ledgerq_log_bytes", "ledgerq_notice_bytes", "ledgerq_map_size_bytes",
                           "ledgerq_map_used_bytes", "ledgerq_peers", "ledgerq_start_time_seconds"})
    EXPECT_TRUE(before.samples.contains(name)) << name;

  for (int i = 0; i < 3; ++i) submit("job-" + std::to_string(i));
  ok("update", {{"datasource", "images"}, {"job", "job-0"}, {"status", "failed"}, {"error", "no such image"}});
  ok("ds_configure", {{"datasource", "images"}, {"options", {{"paused", true}}}});

  const Exposition after = scrape(*w);
  EXPECT_EQ(after.at(R"(ledgerq_jobs{datasource="images",status="submitted"})"), 2);
  EXPECT_EQ(after.at(R"(ledgerq_jobs{datasource="images",status="failed"})"), 1);
  EXPECT_EQ(after.at(R"(ledgerq_submitted_last_minute{datasource="images"})"), 3);
  EXPECT_EQ(after.at(R"(ledgerq_datasource_paused{datasource="images"})"), 1);
  EXPECT_GT(after.at(R"(ledgerq_oldest_pending_age_seconds{datasource="images"})"), 0);
  EXPECT_GE(after.at("ledgerq_requests_total"), before.at("ledgerq_requests_total") + 5);
  EXPECT_GT(after.at("ledgerq_log_entries"), before.at("ledgerq_log_entries"));
  for (const auto& [series, value] : after.samples)  // every counter is monotonic
    if (after.types.at(series.substr(0, series.find('{'))) == "counter" && before.samples.contains(series)) {
      EXPECT_GE(value, before.at(series)) << series;
    }

  broker_->kill9();
  const Exposition gone = scrape(*w);  // still 200: the scrape itself worked
  EXPECT_EQ(gone.at("ledgerq_up"), 0);
  EXPECT_FALSE(gone.samples.contains("ledgerq_requests_total"));
  EXPECT_EQ(w->client().Get("/healthz")->status, 200);
  auto api = w->client().Get("/api/overview");
  EXPECT_EQ(api->status, 503);
  EXPECT_NE(json::parse(api->body).value("error", "").find("no answer"), std::string::npos) << api->body;
}

// A SIGTERM that arrives as soon as the ready line is out, before the
// server loop runs, must still end the process, and promptly.
TEST(WebProcess, StopsOnASignalRightAfterTheReadyLine) {
  for (int i = 0; i < 20; ++i) {
    Running w(LEDGERQ_WEB_PATH, {"--listen", "127.0.0.1:0", "--router", "tcp://127.0.0.1:1"});
    ASSERT_TRUE(w.line(10s)) << "run " << i;
    w.signal(SIGTERM);
    const auto started = std::chrono::steady_clock::now();
    const auto o = w.wait(5s);
    EXPECT_EQ(o.status, 0) << "run " << i << ": " << o.err;
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s) << "run " << i;
  }
}

TEST_F(WebTest, RefusesANonLoopbackListenWithoutAccessControl) {
  auto o = Running(LEDGERQ_WEB_PATH, {"--listen", "0.0.0.0:0", "--router", broker_->router()}).wait();
  EXPECT_EQ(o.status, 2);
  EXPECT_NE(o.err.find("--auth-file"), std::string::npos) << o.err;
  EXPECT_EQ(o.out, "");
  // Said explicitly, it serves, with a warning.
  Running insecure(LEDGERQ_WEB_PATH, {"--listen", "0.0.0.0:0", "--router", broker_->router(), "--insecure"});
  const auto line = insecure.line(10s);
  ASSERT_TRUE(line);
  EXPECT_TRUE(line->starts_with("ledgerq-web ready: http://0.0.0.0:")) << *line;
  for (const char* bad : {"8080", "127.0.0.1:", "127.0.0.1:99999", "::1:80"}) {
    auto b = Running(LEDGERQ_WEB_PATH, {"--listen", bad}).wait();
    EXPECT_EQ(b.status, 2) << bad;
    EXPECT_NE(b.err.find("--listen"), std::string::npos) << b.err;
  }
}

TEST_F(WebTest, BasicAuthIsEnforcedWhenConfigured) {
  const auto file = dir_.path() / "users";
  std::ofstream(file) << "# operators\nops:s3cret:with-colon\n\nviewer:pw\n";
  ::chmod(file.c_str(), 0644);
  auto refused = Running(LEDGERQ_WEB_PATH, {"--auth-file", file.string()}).wait();
  EXPECT_EQ(refused.status, 2);
  EXPECT_NE(refused.err.find("chmod 600"), std::string::npos) << refused.err;

  ::chmod(file.c_str(), 0600);
  auto w = web({"--auth-file", file.string()});
  auto c = w->client();
  for (const char* path : {"/", "/metrics", "/api/overview", "/nope", "/healthz/x"}) {
    auto res = c.Get(path);
    EXPECT_EQ(res->status, 401) << path;
    EXPECT_EQ(res->get_header_value("WWW-Authenticate").rfind("Basic ", 0), 0u);
  }
  // A liveness probe needs no password: /healthz tells nothing.
  auto health = c.Get("/healthz");
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");
  c.set_basic_auth("ops", "s3cret");
  EXPECT_EQ(c.Get("/metrics")->status, 401);
  c.set_basic_auth("ops", "s3cret:with-colonx");
  EXPECT_EQ(c.Get("/metrics")->status, 401);
  c.set_basic_auth("ops", "s3cret:with-colon");
  EXPECT_EQ(c.Get("/metrics")->status, 200);
  c.set_basic_auth("viewer", "pw");
  EXPECT_EQ(c.Get("/")->status, 200);
  // Behind auth, any Host is fine (a proxy's name).
  EXPECT_EQ(c.Get("/healthz", {{"Host", "dash.example.com"}})->status, 200);
}

TEST_F(WebTest, ServesThePageAndRefusesOtherSites) {
  auto w = web();
  auto c = w->client();
  auto page = c.Get("/");
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("<script src=\"/app.js\""), std::string::npos);
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(c.Get("/app.js")->status, 200);
  EXPECT_EQ(c.Get("/style.css")->status, 200);
  EXPECT_EQ(c.Get("/nope")->status, 404);
  // A page of another site whose name was re-bound to 127.0.0.1 sends its
  // own name as Host.
  EXPECT_EQ(c.Get("/api/overview", {{"Host", "evil.example:8080"}})->status, 403);
  EXPECT_EQ(c.Get("/api/overview", {{"Host", "localhost:1"}})->status, 200);
  // A cross-site form cannot send JSON: actions need it.
  auto form = c.Post("/api/retry", "datasource=images", "application/x-www-form-urlencoded");
  EXPECT_EQ(form->status, 415);
}

TEST_F(WebTest, ApiValidatesItsInputAndActs) {
  submit("a<b>&\"c", "app-7");
  submit("plain");
  ok("update", {{"datasource", "images"}, {"job", "plain"}, {"status", "failed"}, {"error", "boom"}});
  auto w = web();
  auto c = w->client();
  const auto get = [&](const std::string& path) {
    auto res = c.Get(path);
    if (!res) throw std::runtime_error("no answer: " + path);
    return std::make_pair(res->status, json::parse(res->body, nullptr, false));
  };
  const auto post = [&](const std::string& path, const json& body) {
    auto res = c.Post(path, body.dump(), "application/json");
    if (!res) throw std::runtime_error("no answer: " + path);
    return std::make_pair(res->status, json::parse(res->body, nullptr, false));
  };

  auto [st, overview] = get("/api/overview");
  ASSERT_EQ(st, 200);
  EXPECT_EQ(overview["datasources"][0]["datasource"], "images");
  EXPECT_EQ(overview["datasources"][0]["counts"]["failed"], 1);
  EXPECT_EQ(overview["datasources"][0]["submitted_1m"], 2);

  for (const char* bad : {"/api/jobs", "/api/jobs?datasource=a/b", "/api/jobs?datasource=images&status=done",
                          "/api/jobs?datasource=images&limit=0", "/api/jobs?datasource=images&limit=1000",
                          "/api/jobs?datasource=images&limit=5x", "/api/job?datasource=images",
                          "/api/jobs?datasource=images&type=a%20b"})
    EXPECT_EQ(get(bad).first, 400) << bad;
  EXPECT_EQ(get("/api/jobs?datasource=nope").first, 404);
  EXPECT_EQ(get("/api/job?datasource=images&job=missing").first, 404);

  // Paging: one job a page, the continuation leads to the other.
  auto [s1, p1] = get("/api/jobs?datasource=images&limit=1");
  ASSERT_EQ(s1, 200);
  ASSERT_EQ(p1["jobs"].size(), 1u);
  auto [s2, p2] = get("/api/jobs?datasource=images&limit=1&continuation=" +
                      httplib::detail::encode_query_param(p1["continuation"].get<std::string>()));
  ASSERT_EQ(s2, 200);
  ASSERT_EQ(p2["jobs"].size(), 1u);
  EXPECT_NE(p1["jobs"][0]["job"], p2["jobs"][0]["job"]);
  auto [s3, failed] = get("/api/jobs?datasource=images&status=failed");
  EXPECT_EQ(failed["jobs"].size(), 1u);

  auto [sj, job] = get("/api/job?datasource=images&job=" + httplib::detail::encode_query_param("a<b>&\"c"));
  ASSERT_EQ(sj, 200);
  EXPECT_EQ(job["job"]["client"], "app-7");
  EXPECT_EQ(job["job"]["request"]["w"], 640);

  // History: every event of the job, oldest first, each with its time.
  auto [sh, history] = get("/api/history?datasource=images&job=plain");
  ASSERT_EQ(sh, 200) << history;
  ASSERT_EQ(history["events"].size(), 2u) << history;
  EXPECT_EQ(history["events"][0]["type"], "submit");
  EXPECT_EQ(history["events"][1]["type"], "status");
  EXPECT_EQ(history["events"][1]["error"], "boom");
  EXPECT_GT(history["events"][1]["at"], history["events"][0]["at"]);
  EXPECT_EQ(history["continuation"], "");
  EXPECT_EQ(get("/api/history?datasource=images&job=missing").first, 404);
  EXPECT_EQ(get("/api/history?datasource=images").first, 400);

  // Actions.
  EXPECT_EQ(post("/api/pause", {{"datasource", "images"}, {"paused", "yes"}}).first, 400);
  EXPECT_EQ(post("/api/pause", {{"datasource", "images"}, {"paused", true}}).first, 200);
  EXPECT_EQ(ok("ds_list", json::object())["datasources"][0]["options"]["paused"], true);
  EXPECT_EQ(post("/api/pause", {{"datasource", "images"}, {"paused", false}}).first, 200);
  EXPECT_FALSE(ok("ds_list", json::object())["datasources"][0]["options"].contains("paused"));
  auto [sc, cancelled] = post("/api/cancel", {{"datasource", "images"}, {"job", "a<b>&\"c"}});
  ASSERT_EQ(sc, 200) << cancelled;
  EXPECT_EQ(cancelled["status"]["status"], "cancelled");
  auto [sr, retried] = post("/api/retry", {{"datasource", "images"}});
  EXPECT_EQ(retried["retried"], 1);
  // By id: a job that is not failed is not retried; delete takes any status.
  auto [sr1, not_failed] = post("/api/retry", {{"datasource", "images"}, {"job", "a<b>&\"c"}});
  EXPECT_EQ(not_failed["retried"], 0) << not_failed;
  auto [sd1, one] = post("/api/delete", {{"datasource", "images"}, {"job", "plain"}});  // retrying
  EXPECT_EQ(one["deleted"], 1) << one;
  EXPECT_EQ(get("/api/job?datasource=images&job=plain").first, 404);
  EXPECT_EQ(post("/api/delete", {{"datasource", "images"}}).first, 400);  // a status is required
  auto [sd, deleted] = post("/api/delete", {{"datasource", "images"}, {"status", "cancelled"}, {"client", "app-7"}});
  EXPECT_EQ(deleted["deleted"], 1);
  EXPECT_EQ(post("/api/cancel", {{"datasource", "images"}, {"job", 5}}).first, 400);
  auto bad_json = c.Post("/api/retry", "{", "application/json");
  EXPECT_EQ(bad_json->status, 400);
  auto big = c.Post("/api/retry", std::string(100 * 1024, ' '), "application/json");
  EXPECT_EQ(big->status, 413);

  auto ro = web({"--read-only"});
  auto rc = ro->client();
  auto refused = rc.Post("/api/retry", R"({"datasource":"images"})", "application/json");
  EXPECT_EQ(refused->status, 403);
  EXPECT_EQ(rc.Get("/api/overview")->status, 200);
}

// A history page may carry 1 MiB of bodies; one answer stops once the
// broker's replies pass about 2 MiB and says where to go on.
TEST_F(WebTest, HistoryAnswersStayNearTwoMebibytes) {
  submit("big");
  const std::string blob(900 * 1024, 'x');
  for (const char* status : {"accepted", "retrying", "accepted", "retrying"})
    ok("update", {{"datasource", "images"}, {"job", "big"}, {"status", status}, {"response", {{"blob", blob}}}});
  auto w = web();
  auto c = w->client();
  auto first = c.Get("/api/history?datasource=images&job=big");
  ASSERT_EQ(first->status, 200);
  const json a = json::parse(first->body);
  ASSERT_LT(a["events"].size(), 5u) << "one answer took every page";
  ASSERT_NE(a["continuation"], "");
  EXPECT_LT(first->body.size(), 8u << 20);
  auto rest = c.Get("/api/history?datasource=images&job=big&continuation=" +
                    httplib::detail::encode_query_param(a["continuation"].get<std::string>()));
  ASSERT_EQ(rest->status, 200);
  const json b = json::parse(rest->body);
  EXPECT_EQ(a["events"].size() + b["events"].size(), 5u);
  EXPECT_EQ(b["continuation"], "");
}

// On a secure broker the dashboard is a principal like any tool: a reader
// sees everything and the broker refuses its actions (shown as 403); an
// admin acts.
TEST(WebSecure, ActsAsTheRoleOfItsKey) {
  tools::TempDir dir;
  const auto broker_keys = keys::generate(), reader = keys::generate(), admin = keys::generate();
  keys::write_pair(dir.path() / "broker", broker_keys);
  keys::write_pair(dir.path() / "reader", reader);
  keys::write_pair(dir.path() / "admin", admin);
  std::ofstream(dir.path() / "principals") << reader.public_z85 << " reader dash\n"
                                           << admin.public_z85 << " admin ops\n";
  tools::BrokerProcess broker(LEDGERQ_BROKER_PATH, dir.path() / "data",
                              {"--curve-secret", (dir.path() / "broker.secret").string(), "--principals",
                               (dir.path() / "principals").string()});
  const auto web_as = [&](const std::string& who, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"--listen", "127.0.0.1:0", "--router", broker.router(), "--server-key",
                                  (dir.path() / "broker.pub").string(), "--secret-key",
                                  (dir.path() / (who + ".secret")).string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<Web>(args);
  };
  auto as_admin = web_as("admin");
  auto as_reader = web_as("reader");
  tools::Connection ops({broker.router(), client::Credentials::from_files((dir.path() / "broker.pub").string(),
                                                                          (dir.path() / "admin.secret").string()), 5s});
  ASSERT_EQ(ops.call("ds_create", {{"datasource", "images"}}).code, 200u);

  auto rc = as_reader->client();
  auto overview = rc.Get("/api/overview");
  ASSERT_EQ(overview->status, 200) << overview->body;
  EXPECT_EQ(json::parse(overview->body)["datasources"][0]["datasource"], "images");
  EXPECT_EQ(parse_exposition(rc.Get("/metrics")->body).at("ledgerq_up"), 1);
  const std::string pause = R"({"datasource":"images","paused":true})";
  auto refused = rc.Post("/api/pause", pause, "application/json");
  EXPECT_EQ(refused->status, 403);
  EXPECT_NE(json::parse(refused->body).value("error", "").find("403"), std::string::npos) << refused->body;
  EXPECT_EQ(as_admin->client().Post("/api/pause", pause, "application/json")->status, 200);

  // A key the broker does not admit gets no answer: the page says the
  // broker is unreachable rather than waiting forever.
  auto stranger = keys::generate();
  keys::write_pair(dir.path() / "stranger", stranger);
  auto lost = web_as("stranger", {"--timeout", "500ms"});  // it never gets an answer
  EXPECT_EQ(lost->client().Get("/api/overview")->status, 503);
}

}  // namespace
}  // namespace ledgerq::testing
