// The pure pieces of identity: principals, their patterns and topics
// (domain/access.hpp), the principals file's parser and key files
// (transport/security.hpp, transport/keys.hpp); and the limit on what peers
// make the broker log (transport/log_limit.hpp). The rules over real
// sockets are in tests/integration/security_test.cpp and logs_test.cpp.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "codec/codec.hpp"
#include "common/broker_process.hpp"
#include "domain/access.hpp"
#include "transport/keys.hpp"
#include "transport/log_limit.hpp"
#include "transport/security.hpp"

namespace ledgerq {
namespace {

using domain::Feed;
using domain::Principal;
using domain::Role;

TEST(Access, WorkerPatternsAndLeaseNames) {
  const Principal w{"resizer", Role::worker, {"images", "thumbs-*"}};
  EXPECT_TRUE(w.serves("images"));
  EXPECT_TRUE(w.serves("thumbs-eu"));
  EXPECT_TRUE(w.serves("thumbs-"));
  EXPECT_FALSE(w.serves("images2"));
  EXPECT_FALSE(w.serves("thumbs"));
  EXPECT_TRUE((Principal{"all", Role::worker, {"*"}}.serves("anything")));
  EXPECT_TRUE(w.owns_lease("resizer"));
  EXPECT_TRUE(w.owns_lease("resizer:5f1c"));
  EXPECT_FALSE(w.owns_lease("resizer2"));
  EXPECT_FALSE(w.owns_lease("resize"));
  EXPECT_FALSE(w.owns_lease(""));
  EXPECT_TRUE(domain::check_principal_name("a:b"));
  EXPECT_TRUE(domain::check_principal_name("a b"));
  EXPECT_TRUE(domain::check_principal_name(""));
  EXPECT_FALSE(domain::check_principal_name("app-1@eu"));
  EXPECT_FALSE(domain::check_ds_pattern("img-*"));
  EXPECT_TRUE(domain::check_ds_pattern("img/*"));
  EXPECT_TRUE(domain::check_ds_pattern("**"));
}

TEST(Access, TopicsAreAdmittedExactly) {
  const Principal ab{"ab", Role::client, {}};
  EXPECT_TRUE(domain::may_subscribe(ab, Feed::status, codec::status_topic("ab")));
  EXPECT_FALSE(domain::may_subscribe(ab, Feed::status, codec::status_topic("abc")));
  EXPECT_FALSE(domain::may_subscribe(ab, Feed::status, "ab"));  // a prefix of "abc\0" too
  EXPECT_FALSE(domain::may_subscribe(ab, Feed::status, ""));
  EXPECT_FALSE(domain::may_subscribe(ab, Feed::requests, codec::request_topic("ab")));
  const Principal w{"w", Role::worker, {"img-*"}};
  EXPECT_TRUE(domain::may_subscribe(w, Feed::requests, codec::request_topic("img-1")));
  EXPECT_FALSE(domain::may_subscribe(w, Feed::requests, "img-"));  // every img-* at once, unterminated
  EXPECT_FALSE(domain::may_subscribe(w, Feed::requests, codec::request_topic("img")));
  EXPECT_FALSE(domain::may_subscribe(w, Feed::status, codec::status_topic("w")));
  for (Role r : {Role::reader, Role::admin}) {
    const Principal p{"ops", r, {}};
    EXPECT_TRUE(domain::may_subscribe(p, Feed::status, ""));
    EXPECT_TRUE(domain::may_subscribe(p, Feed::requests, codec::request_topic("x")));
  }
}

TEST(Access, AuthorizeNarrowsAClientsScanToItsOwnJobs) {
  const Principal ab{"ab", Role::client, {}};
  Command c = cmd::Scan{"q", {}, std::nullopt, ""};
  EXPECT_FALSE(domain::authorize(ab, c));
  EXPECT_EQ(std::get<cmd::Scan>(c).filter.client, "ab");
  Command other = cmd::Scan{"q", cmd::JobFilter{.client = "abc"}, std::nullopt, ""};
  auto e = domain::authorize(ab, other);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, Code::forbidden);
  EXPECT_NE(e->message.find("acts only as itself"), std::string::npos) << e->message;
}

// A principals file line: a fresh key, then the rest.
std::string line(const std::string& rest) { return keys::generate().public_z85 + " " + rest + "\n"; }

TEST(PrincipalsFile, ParsesEveryRoleAndRefusesBadLinesByNumber) {
  const auto k = keys::generate().public_z85;
  const std::string text = "# comment\n\n" + k + "  client app-1\n" + line("worker resizer images thumbs-*") +
                           line("driver feeds *") + line("reader grafana") + line("admin ops") +
                           line("client app-1");  // a second key of app-1
  const auto p = transport::parse_principals(text, "p");
  ASSERT_EQ(p.size(), 6u);
  EXPECT_EQ(p.at(k)->name, "app-1");
  EXPECT_EQ(p.at(k)->role, Role::client);
  std::size_t workers = 0;
  for (const auto& [key, who] : p)
    if (who->role == Role::worker) ++workers;
  EXPECT_EQ(workers, 2u);

  const std::vector<std::pair<std::string, std::string>> bad{
      {line("client"), "p:1: expected"},
      {"not-a-key client a\n", "p:1: 'not-a-key' is not a Z85 public key"},
      {line("boss a"), "p:1: unknown role 'boss'"},
      {line("client a:b"), "p:1: a name must not contain ':'"},
      {line("worker w"), "p:1: a worker names the datasources"},
      {line("worker w bad/ds"), "p:1: datasource pattern 'bad/ds'"},
      {line("admin ops extra"), "p:1: only a worker lists datasources"},
      {line("client a") + "# c\n" + line("admin a"), "p:3: 'a' appears before with another role"},
      {k + " client a\n" + k + " client b\n", "p:2: this key appears twice"},
  };
  for (const auto& [text2, want] : bad) {
    try {
      transport::parse_principals(text2, "p");
      ADD_FAILURE() << "accepted: " << text2;
    } catch (const keys::KeyError& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what() << " (wanted " << want << ")";
    }
  }
}

TEST(KeyFiles, WrittenOnceReadBackAndTheSecretMustBePrivate) {
  tools::TempDir dir;
  const auto base = dir.path() / "app";
  const auto pair = keys::generate();
  keys::write_pair(base, pair);
  EXPECT_THROW(keys::write_pair(base, keys::generate()), keys::KeyError) << "never overwritten";
  EXPECT_EQ(keys::read_public(base.string() + ".pub"), pair.public_z85);
  const auto back = keys::read_secret(base.string() + ".secret");
  EXPECT_EQ(back.secret_z85, pair.secret_z85);
  EXPECT_EQ(back.public_z85, pair.public_z85) << "derived from the secret";
  struct stat st {};
  ASSERT_EQ(::stat((base.string() + ".secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(keys::public_key_arg(pair.public_z85), pair.public_z85);
  EXPECT_EQ(keys::public_key_arg(base.string() + ".pub"), pair.public_z85);
  // A path of 40 Z85 characters is a key too, textually: the file wins.
  std::string lookalike = (dir.path() / "k").string();
  lookalike += std::string(40 - lookalike.size() - 4, 'x') + ".pub";
  ASSERT_EQ(lookalike.size(), 40u);
  std::filesystem::copy_file(base.string() + ".pub", lookalike);
  ASSERT_TRUE(keys::is_key(lookalike)) << "the path must look like a key for this test to mean anything";
  EXPECT_EQ(keys::public_key_arg(lookalike), pair.public_z85);

  ::chmod((base.string() + ".secret").c_str(), 0640);
  try {
    keys::read_secret(base.string() + ".secret");
    ADD_FAILURE() << "a group-readable secret was accepted";
  } catch (const keys::KeyError& e) {
    EXPECT_NE(std::string(e.what()).find("mode 0640"), std::string::npos) << e.what();
  }
  std::ofstream(dir.path() / "junk.pub") << "hello\n";
  EXPECT_THROW(keys::read_public(dir.path() / "junk.pub"), keys::KeyError);
  EXPECT_THROW(keys::read_public(dir.path() / "missing.pub"), keys::KeyError);
}

TEST(Endpoints, LoopbackIsTellable) {
  for (const char* ep : {"tcp://127.0.0.1:5555", "tcp://127.0.0.1:*", "tcp://localhost:1", "tcp://[::1]:5",
                         "tcp://lo:5555", "ipc:///tmp/x", "inproc://x"})
    EXPECT_TRUE(transport::is_local_endpoint(ep)) << ep;
  for (const char* ep : {"tcp://0.0.0.0:5555", "tcp://*:5555", "tcp://10.0.0.1:1", "tcp://eth0:5", "tcp://[::]:5"})
    EXPECT_FALSE(transport::is_local_endpoint(ep)) << ep;
}

}  // namespace
}  // namespace ledgerq

TEST(LogLimit, AFewLinesAPeerThenOneCountWhenTheWindowCloses) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto old = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
  ledgerq::transport::LogLimit limit;
  const auto t0 = ledgerq::transport::LogLimit::Clock::now();
  for (int i = 0; i < 25; ++i) limit.warn("peer a", "stale token", t0);
  for (int i = 0; i < 3; ++i) limit.warn("peer b", "stale token", t0);
  limit.roll(t0 + std::chrono::seconds(11));
  limit.warn("peer a", "stale token", t0 + std::chrono::seconds(12));  // a new window
  spdlog::set_default_logger(old);
  const std::string text = out.str();
  auto count = [&](const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = 0; (at = text.find(what, at)) != std::string::npos; ++at) ++n;
    return n;
  };
  EXPECT_EQ(count("stale token (from peer a)"), 11u);
  EXPECT_EQ(count("stale token (from peer b)"), 3u);
  EXPECT_EQ(count("15 more warnings from peer a suppressed"), 1u) << text;
  EXPECT_EQ(count("from peer b suppressed"), 0u);
}
