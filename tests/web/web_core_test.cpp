// The pure parts of ledgerq-web, without sockets: the exposition's escaping
// and shape, and the access rules (listen addresses, Host names, Basic auth).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "access.hpp"
#include "broker_process.hpp"  // tools/common: TempDir
#include "metrics.hpp"

namespace ledgerq::web {
namespace {

using tools::json;

TEST(Metrics, LabelValuesAreEscaped) {
  EXPECT_EQ(escape_label_value(R"(a"b\c)" "\nd"), R"(a\"b\\c\nd)");
  EXPECT_EQ(escape_label_value("plain-name_1.x"), "plain-name_1.x");
}

TEST(Metrics, WithoutABrokerOnlyUpIsWritten) {
  EXPECT_EQ(render_metrics(std::nullopt, std::nullopt),
            "# HELP ledgerq_up 1 when the broker answered this scrape's stats, 0 otherwise.\n"
            "# TYPE ledgerq_up gauge\nledgerq_up 0\n");
}

TEST(Metrics, FiguresBecomeSamplesInBaseUnits) {
  const json stats = json::parse(R"({"version":1,"release":"9.9.9","now":5000000,"started":1000000,"requests":10,
    "transactions":4,"apply_us":1500000,"commit_us":250,"log_bytes":77,
    "datasources":[{"datasource":"img","counts":{"failed":2},"oldest_pending":2000000,"submitted_1m":3}]})");
  const json list = json::parse(R"({"datasources":[{"datasource":"img","options":{"paused":true}}]})");
  const std::string text = render_metrics(stats, list);
  for (const char* line : {"ledgerq_up 1\n", "ledgerq_build_info{version=\"9.9.9\",protocol=\"1\"} 1\n",
                           "ledgerq_requests_total 10\n", "ledgerq_apply_seconds_total 1.5\n",
                           "ledgerq_commit_seconds_total 0.00025\n", "ledgerq_start_time_seconds 1\n",
                           "ledgerq_jobs{datasource=\"img\",status=\"failed\"} 2\n",
                           "ledgerq_jobs{datasource=\"img\",status=\"submitted\"} 0\n",
                           "ledgerq_oldest_pending_age_seconds{datasource=\"img\"} 3\n",
                           "ledgerq_submitted_last_minute{datasource=\"img\"} 3\n",
                           "ledgerq_datasource_paused{datasource=\"img\"} 1\n", "# TYPE ledgerq_log_bytes gauge\n"})
    EXPECT_NE(text.find(line), std::string::npos) << line << "\nin:\n" << text;
  // A broker that does not report map_limit gets no false 0.
  EXPECT_EQ(text.find("ledgerq_map_limit_bytes"), std::string::npos);
}

TEST(Access, ListenAddresses) {
  EXPECT_EQ(parse_listen("127.0.0.1:8080").host, "127.0.0.1");
  EXPECT_EQ(parse_listen("127.0.0.1:8080").port, 8080);
  EXPECT_EQ(parse_listen("[::1]:0").host, "::1");
  for (const char* bad : {"8080", ":80", "host:", "host:65536", "host:8x", "::1:80", "[::1]"})
    EXPECT_THROW(parse_listen(bad), ConfigError) << bad;
  for (const char* yes : {"127.0.0.1", "127.1.2.3", "::1", "localhost"}) EXPECT_TRUE(is_loopback(yes)) << yes;
  for (const char* no : {"0.0.0.0", "10.0.0.1", "127.evil.com", "localhost.evil.com", "::", ""})
    EXPECT_FALSE(is_loopback(no)) << no;
}

TEST(Access, HostNamesOnLoopback) {
  const ListenAddress l{"127.0.0.1", 8080};
  for (const char* yes : {"127.0.0.1:8080", "localhost:8080", "localhost", "[::1]:8080"})
    EXPECT_TRUE(host_allowed(yes, l, false)) << yes;
  for (const char* no : {"evil.com", "evil.com:8080", "", "[::1", "127.0.0.1.evil.com:8080"})
    EXPECT_FALSE(host_allowed(no, l, false)) << no;
  EXPECT_TRUE(host_allowed("evil.com", l, true));
}

TEST(Access, Base64) {
  EXPECT_EQ(base64_decode("b3BzOnB3"), "ops:pw");
  EXPECT_EQ(base64_decode("YQ=="), "a");
  EXPECT_EQ(base64_decode("YWI="), "ab");
  EXPECT_EQ(base64_decode(""), "");
  for (const char* bad : {"YQ=", "Y===", "YQ==YQ==", "Y!==", "=AAA"}) EXPECT_FALSE(base64_decode(bad)) << bad;
}

TEST(Access, BasicAuthFile) {
  tools::TempDir dir;
  const auto path = (dir.path() / "users").string();
  const auto write = [&](const std::string& text, mode_t mode) {
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
  };
  write("ops:pw\n", 0640);
  EXPECT_THROW(BasicAuth::from_file(path), ConfigError);
  write("# nobody\n\n", 0600);
  EXPECT_THROW(BasicAuth::from_file(path), ConfigError);
  write("no-colon\n", 0600);
  EXPECT_THROW(BasicAuth::from_file(path), ConfigError);
  EXPECT_THROW(BasicAuth::from_file((dir.path() / "missing").string()), ConfigError);
  write("ops:pw\r\nviewer:\n", 0600);
  const BasicAuth auth = BasicAuth::from_file(path);
  EXPECT_TRUE(auth.allows("Basic b3BzOnB3"));   // ops:pw (the CR of a CRLF line is not part of it)
  EXPECT_TRUE(auth.allows("Basic dmlld2VyOg=="));  // viewer: (an empty password is a password)
  EXPECT_FALSE(auth.allows("Basic b3BzOnB4"));  // ops:px
  EXPECT_FALSE(auth.allows("Basic b3BzOnB3eA=="));  // ops:pwx
  EXPECT_FALSE(auth.allows("Basic b3BzOg=="));  // ops:
  EXPECT_FALSE(auth.allows("Bearer b3BzOnB3"));
  EXPECT_FALSE(auth.allows("Basic !!!!"));
  EXPECT_FALSE(auth.allows(""));
}

}  // namespace
}  // namespace ledgerq::web
