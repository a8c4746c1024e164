// A broker in secure mode, over real sockets with CURVE: who gets in, what
// each role may do (every command from every role), whose leases and topics
// are whose, and reloading the principals file with SIGHUP.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "broker_process.hpp"
#include "raw_peer.hpp"
#include "transport/keys.hpp"

namespace ledgerq {
namespace {

using namespace std::chrono_literals;
using testing::BrokerProcess;
using testing::CurveKeys;
using testing::RawPeer;
using testing::text;
using testing::Subscriber;

// One principal of the fixture: its line in the principals file and keys.
struct Who {
  std::string name, role, datasources;
  keys::KeyPair pair = keys::generate();
};

class Secure : public ::testing::Test {
 protected:
  Secure() {
    keys::write_pair(dir_.path() / "broker", server_);
    for (auto& [name, role, ds] : std::vector<std::tuple<std::string, std::string, std::string>>{
             {"ab", "client", ""}, {"abc", "client", ""}, {"w1", "worker", "q"}, {"w2", "worker", "q"},
             {"wx", "worker", "x*"}, {"wab", "worker", "ab"}, {"ops", "admin", ""}, {"dash", "reader", ""}})
      who_.emplace(name, Who{name, role, ds});
    write_principals();
  }

  void write_principals(const std::string& extra = "", const std::string& without = "") {
    std::ofstream f(dir_.path() / "principals");
    f << "# test principals\n";
    for (const auto& [name, w] : who_)
      if (name != without) f << w.pair.public_z85 << "  " << w.role << "  " << name << "  " << w.datasources << "\n";
    f << extra;
  }

  CurveKeys keys_of(const std::string& name) const {
    const auto& p = who_.at(name).pair;
    return CurveKeys{server_.public_z85, p.public_z85, p.secret_z85};
  }
  std::unique_ptr<RawPeer> peer(const std::string& name) {
    return std::make_unique<RawPeer>(ctx_, broker_->router(), keys_of(name));
  }

  void start() {
    broker_.emplace(dir_.path() / "data",
                    std::vector<std::string>{"--curve-secret", (dir_.path() / "broker.secret").string(),
                                             "--principals", (dir_.path() / "principals").string()},
                    dir_.path() / "broker.log");
    admin_ = peer("ops");
    admin_->ok<reply::DsCreate>(cmd::DsCreate{"q", std::nullopt});
    admin_->ok<reply::DsCreate>(cmd::DsCreate{"x1", std::nullopt});
    admin_->ok<reply::DsCreate>(cmd::DsCreate{"ab", std::nullopt});
    admin_->ok<reply::DsCreate>(cmd::DsCreate{"abc", std::nullopt});
  }
  void SetUp() override { start(); }

  testing::TempDir dir_;
  keys::KeyPair server_ = keys::generate();
  std::map<std::string, Who> who_;
  zmq::context_t ctx_{1};
  std::optional<BrokerProcess> broker_;
  std::unique_ptr<RawPeer> admin_;
};

TEST_F(Secure, UnknownKeysAndPlainPeersGetNoConnection) {
  const auto k = keys::generate();
  RawPeer unknown(ctx_, broker_->router(), CurveKeys{server_.public_z85, k.public_z85, k.secret_z85});
  RawPeer plain(ctx_, broker_->router());
  for (auto* p : {&unknown, &plain}) {
    // A refused handshake leaves the DEALER no pipe, where a send would block.
    p->socket().set(zmq::sockopt::sndtimeo, 200);
    p->send_frames({std::string(codec::kSignature), codec::encode_request(Request{1, cmd::Ping{}})});
    EXPECT_FALSE(p->receive(500ms)) << "a peer the principals file does not name must get no answer";
  }
  EXPECT_EQ(admin_->call(cmd::Ping{}).code, Code::ok);
}

TEST_F(Secure, AnUnknownKeyIsLoggedOnceAMinuteNotPerAttempt) {
  const auto k = keys::generate();
  for (int i = 0; i < 5; ++i) {
    RawPeer unknown(ctx_, broker_->router(), CurveKeys{server_.public_z85, k.public_z85, k.secret_z85});
    unknown.socket().set(zmq::sockopt::sndtimeo, 100);
    unknown.send_frames({std::string(codec::kSignature), codec::encode_request(Request{1, cmd::Ping{}})});
    EXPECT_FALSE(unknown.receive(200ms));
  }
  EXPECT_EQ(admin_->call(cmd::Ping{}).code, Code::ok);  // the log is written by now
  std::ifstream log(dir_.path() / "broker.log");
  std::size_t lines = 0;
  for (std::string line; std::getline(log, line);)
    if (line.find("unknown key " + k.public_z85) != std::string::npos) ++lines;
  EXPECT_EQ(lines, 1u);
}

// Every command from every role: refused with 403 exactly where the role
// table (PROTOCOL.md §14.3) says so; allowed ones may fail otherwise (a
// job that does not exist) but never with 403.
TEST_F(Secure, EveryCommandFromEveryRole) {
  peer("ab")->ok<reply::Submit>(cmd::Submit{"q", "j1", "ab", text("b"), std::nullopt});
  const std::map<std::string, std::string> self{
      {"ab", "ab"}, {"w1", "w1"}, {"dash", "dash"}, {"ops", "ops"}};  // who each acts as
  // Commands by name, built for the caller `me` (its own client id or worker name).
  auto commands = [](const std::string& me) {
    std::vector<std::pair<std::string, Command>> c;
    c.emplace_back("ping", cmd::Ping{});
    c.emplace_back("ds_create", cmd::DsCreate{"made-by-" + me, std::nullopt});
    c.emplace_back("ds_configure", cmd::DsConfigure{"made-by-" + me, DsOptions{}});
    c.emplace_back("ds_delete", cmd::DsDelete{"made-by-" + me});
    c.emplace_back("ds_list", cmd::DsList{});
    c.emplace_back("submit", cmd::Submit{"q", "by-" + me, me, text("b"), std::nullopt});
    c.emplace_back("submit_batch", cmd::SubmitBatch{"q", me, {cmd::BatchJob{"batch-" + me, text("b"), std::nullopt}}});
    c.emplace_back("cancel", cmd::Cancel{"q", "no-such-job", me});
    c.emplace_back("status", cmd::Status{"q", "no-such-job", me});
    c.emplace_back("missed", cmd::Missed{me, 1, std::nullopt});
    c.emplace_back("update", cmd::Update{"q", "no-such-job", JobStatus::accepted, std::nullopt, std::nullopt});
    c.emplace_back("latest", cmd::Latest{"q"});
    c.emplace_back("since", cmd::Since{"q", 0, std::nullopt});
    cmd::Dequeue dry{.datasource = "q", .worker = me, .dry_run = true};
    c.emplace_back("dequeue(dry_run)", dry);
    cmd::Dequeue take{.datasource = "q", .worker = me, .limit = 1};
    take.types = std::vector<std::string>{"no-such-type"};  // leases nothing: the test's jobs stay put
    c.emplace_back("dequeue", take);
    c.emplace_back("ack", cmd::Ack{"q", {cmd::AckItem{.job = "no-such-job", .token = 1, .outcome = "success"}}});
    c.emplace_back("checkpoint", cmd::Checkpoint{.datasource = "q", .job = "no-such-job", .token = 1});
    c.emplace_back("lookup", cmd::Lookup{"q", {"no-such-job"}, false});
    c.emplace_back("count", cmd::Count{"q", JobStatus::submitted, std::nullopt, ""});
    c.emplace_back("scan", cmd::Scan{"q", {}, std::nullopt, ""});
    c.emplace_back("retry", cmd::Retry{"q", std::nullopt, std::nullopt, std::nullopt, std::nullopt});
    c.emplace_back("delete", cmd::Delete{"q", cmd::JobFilter{.status = JobStatus::cancelled}, std::nullopt});
    c.emplace_back("stats", cmd::Stats{});
    c.emplace_back("history", cmd::History{"q", "no-such-job", ""});
    return c;
  };
  const std::map<std::string, std::set<std::string>> allowed{
      {"ab", {"ping", "submit", "submit_batch", "cancel", "status", "missed", "lookup", "scan", "history"}},
      {"w1", {"ping", "ds_list", "update", "latest", "since", "dequeue(dry_run)", "dequeue", "ack", "checkpoint",
              "lookup", "count", "scan", "history"}},
      {"dash", {"ping", "ds_list", "status", "missed", "latest", "since", "dequeue(dry_run)", "lookup", "count",
                "scan", "stats", "history"}},
  };
  std::size_t checked = 0;
  for (const auto& [name, me] : self) {
    auto p = peer(name);
    for (const auto& [label, c] : commands(me)) {
      const auto r = p->call(c);
      const bool may = name == "ops" || allowed.at(name).count(label);
      if (may) {
        EXPECT_NE(r.code, Code::forbidden) << name << " " << label << ": " << r.message;
      } else {
        EXPECT_EQ(r.code, Code::forbidden) << name << " " << label << " must be refused";
        EXPECT_NE(r.message.find(std::string(command_name(c))), std::string::npos) << r.message;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 4 * 24u);
}

TEST_F(Secure, AClientActsOnlyAsItselfAndOnItsOwnJobs) {
  auto ab = peer("ab"), abc = peer("abc");
  ab->ok<reply::Submit>(cmd::Submit{"q", "j1", "ab", text("b"), std::nullopt});
  auto r = abc->call(cmd::Submit{"q", "j2", "ab", text("b"), std::nullopt});
  EXPECT_EQ(r.code, Code::forbidden);
  EXPECT_NE(r.message.find("acts only as itself"), std::string::npos) << r.message;
  EXPECT_EQ(abc->call(cmd::Cancel{"q", "j1", "abc"}).code, Code::forbidden);  // ab's job
  EXPECT_EQ(abc->call(cmd::Cancel{"q", "j1", "ab"}).code, Code::forbidden);   // as ab
  EXPECT_EQ(abc->call(cmd::Missed{"ab", 1, std::nullopt}).code, Code::forbidden);
  EXPECT_EQ(abc->call(cmd::Lookup{"q", {"j1"}, true}).code, Code::forbidden);
  // Its own job's history it reads; another client's is 403, not 404.
  EXPECT_EQ(abc->call(cmd::History{"q", "j1", ""}).code, Code::forbidden);
  EXPECT_EQ(ab->ok<reply::History>(cmd::History{"q", "j1", ""}).events.at(0).event.type, EventType::submit);
  // A client's scan is narrowed to its own jobs.
  abc->ok<reply::Submit>(cmd::Submit{"q", "j3", "abc", text("b"), std::nullopt});
  auto mine = abc->ok<reply::Scan>(cmd::Scan{"q", {}, std::nullopt, ""});
  ASSERT_EQ(mine.jobs.size(), 1u);
  EXPECT_EQ(mine.jobs[0].state.job, "j3");
  EXPECT_EQ(abc->call(cmd::Scan{"q", cmd::JobFilter{.client = "ab"}, std::nullopt, ""}).code, Code::forbidden);
  // A worker of another datasource cannot complete it; one of q can.
  EXPECT_EQ(peer("wx")->call(cmd::Update{"q", "j1", JobStatus::complete, text("x"), std::nullopt}).code,
            Code::forbidden);
  EXPECT_EQ(peer("wx")->call(cmd::History{"q", "j1", ""}).code, Code::forbidden);  // nor read its history
  EXPECT_EQ(peer("w1")->call(cmd::Update{"q", "j1", JobStatus::complete, text("ok"), std::nullopt}).code, Code::ok);
  EXPECT_EQ(ab->ok<reply::Status>(cmd::Status{"q", "j1", "ab"}).status.status, JobStatus::complete);
  // A worker lists the datasources it serves, not the others.
  auto listed = peer("w1")->ok<reply::DsList>(cmd::DsList{}).datasources;
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].datasource, "q");
}

TEST_F(Secure, ALeaseBelongsToTheWorkerThatTookIt) {
  peer("ab")->ok<reply::Submit>(cmd::Submit{"q", "j1", "ab", text("b"), std::nullopt});
  auto w1 = peer("w1"), w2 = peer("w2");
  // A lease is named for its principal: w1 cannot take one as w2.
  auto as_other = w1->call(cmd::Dequeue{.datasource = "q", .worker = "w2:1"});
  EXPECT_EQ(as_other.code, Code::forbidden) << as_other.message;
  auto got = w1->ok<reply::Dequeue>(cmd::Dequeue{.datasource = "q", .worker = "w1:5f1c"});
  ASSERT_EQ(got.jobs.size(), 1u);
  const auto token = got.jobs[0].state.token;
  // The token is no secret (lookup, notices show it); w2 knows it and still cannot act.
  EXPECT_EQ(w2->ok<reply::Lookup>(cmd::Lookup{"q", {"j1"}, false}).jobs.at(0).state.token, token);
  auto stolen = w2->ok<reply::Ack>(cmd::Ack{"q", {cmd::AckItem{.job = "j1", .token = token, .outcome = "success"}}});
  ASSERT_EQ(stolen.results.size(), 1u);
  EXPECT_EQ(stolen.results[0].code, Code::forbidden);
  EXPECT_NE(stolen.results[0].message.find("leased to 'w1:5f1c'"), std::string::npos) << stolen.results[0].message;
  EXPECT_EQ(w2->call(cmd::Checkpoint{.datasource = "q", .job = "j1", .token = token, .lease_ms = 60'000}).code,
            Code::forbidden);
  auto piggy = w2->ok<reply::Dequeue>(cmd::Dequeue{
      .datasource = "q", .worker = "w2", .acks = {cmd::AckItem{.job = "j1", .token = token, .outcome = "failure"}}});
  EXPECT_EQ(piggy.acks.at(0).code, Code::forbidden);
  // The holder's ack goes through.
  auto mine = w1->ok<reply::Ack>(cmd::Ack{"q", {cmd::AckItem{.job = "j1", .token = token, .outcome = "success"}}});
  EXPECT_EQ(mine.results.at(0).code, Code::ok) << mine.results.at(0).message;
}

TEST_F(Secure, SubscriptionsAreAdmittedOnlyToTopicsThePrincipalMayRead) {
  auto ab = peer("ab"), abc = peer("abc");
  // abc's subscriber asks for ab's topic, for everything, and last for its
  // own: once its own works, the two before it were seen (and refused).
  Subscriber snoop(ctx_, broker_->status_pub(), codec::status_topic("ab"), keys_of("abc"));
  snoop.subscribe("");
  snoop.subscribe(codec::status_topic("abc"));
  int n = 0;
  testing::await_subscription(snoop, [&] {
    abc->ok<reply::Submit>(cmd::Submit{"q", "poke-" + std::to_string(n++), "abc", text("p"), std::nullopt});
  });
  Subscriber honest(ctx_, broker_->status_pub(), codec::status_topic("ab"), keys_of("ab"));
  testing::await_subscription(honest, [&] {
    ab->ok<reply::Submit>(cmd::Submit{"q", "poke-ab-" + std::to_string(n++), "ab", text("p"), std::nullopt});
  });
  ab->ok<reply::Submit>(cmd::Submit{"q", "secret", "ab", text("s"), std::nullopt});
  auto seen = honest.next_status();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->data.job, "secret");
  EXPECT_FALSE(snoop.next(300ms)) << "abc must not see ab's notices, by its topic or by the empty prefix";

  // The requests socket: a worker of q sees q's entries, not x1's, and the
  // empty prefix gives it nothing more.
  Subscriber w1(ctx_, broker_->requests_pub(), codec::request_topic("x1"), keys_of("w1"));
  w1.subscribe("");
  w1.subscribe(codec::request_topic("q"));
  testing::await_subscription(w1, [&] {
    ab->ok<reply::Submit>(cmd::Submit{"q", "poke-q-" + std::to_string(n++), "ab", text("p"), std::nullopt});
  });
  ab->ok<reply::Submit>(cmd::Submit{"x1", "elsewhere", "ab", text("x"), std::nullopt});
  EXPECT_FALSE(w1.next(300ms)) << "w1 does not serve x1";
  // A client gets nothing on the requests socket, even for a datasource it uses.
  Subscriber client_on_requests(ctx_, broker_->requests_pub(), codec::request_topic("q"), keys_of("ab"));
  std::this_thread::sleep_for(200ms);  // (a refusal has nothing to wait for)
  ab->ok<reply::Submit>(cmd::Submit{"q", "j-last", "ab", text("x"), std::nullopt});
  EXPECT_FALSE(client_on_requests.next(300ms));
  auto entry = w1.next_request();
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->job, "j-last");
  // Datasources "ab" and "abc": the worker of ab, asking for abc's topic,
  // for "ab" without its terminator (a prefix of "abc\0") and last for its
  // own, hears ab's entries only.
  Subscriber wab(ctx_, broker_->requests_pub(), codec::request_topic("abc"), keys_of("wab"));
  wab.subscribe("ab");
  wab.subscribe(codec::request_topic("ab"));
  testing::await_subscription(wab, [&] {
    ab->ok<reply::Submit>(cmd::Submit{"ab", "poke-ab-ds-" + std::to_string(n++), "ab", text("p"), std::nullopt});
  });
  ab->ok<reply::Submit>(cmd::Submit{"abc", "in-abc", "ab", text("x"), std::nullopt});
  EXPECT_FALSE(wab.next(300ms)) << "the worker of 'ab' must not hear 'abc'";
  // Refused subscriptions are not counted, and nothing went negative.
  auto st = admin_->ok<reply::Stats>(cmd::Stats{});
  EXPECT_EQ(st.status_subscriptions, 2u);   // abc's own topic, ab's own topic
  EXPECT_EQ(st.request_subscriptions, 2u);  // w1's q, wab's ab
}

TEST_F(Secure, SighupAddsAndRevokesKeysWithoutRestarting) {
  const auto late = keys::generate();
  RawPeer newcomer(ctx_, broker_->router(), CurveKeys{server_.public_z85, late.public_z85, late.secret_z85});
  newcomer.socket().set(zmq::sockopt::sndtimeo, 200);  // refused: no pipe to send on
  newcomer.send_frames({std::string(codec::kSignature), codec::encode_request(Request{1, cmd::Ping{}})});
  EXPECT_FALSE(newcomer.receive(300ms));

  auto ab = peer("ab");
  ab->ok<reply::Ping>(cmd::Ping{});
  Subscriber ab_sub(ctx_, broker_->status_pub(), codec::status_topic("ab"), keys_of("ab"));
  int n = 0;
  testing::await_subscription(ab_sub, [&] {
    ab->ok<reply::Submit>(cmd::Submit{"q", "poke-" + std::to_string(n++), "ab", text("p"), std::nullopt});
  });

  // Add "late", drop "ab".
  write_principals(late.public_z85 + " client late\n", "ab");
  ::kill(broker_->pid(), SIGHUP);
  // The newcomer's socket retries its handshake by itself; a fresh one is
  // quicker to show the new key is in.
  bool admitted = false;
  for (int i = 0; i < 50 && !admitted; ++i) {
    RawPeer fresh(ctx_, broker_->router(), CurveKeys{server_.public_z85, late.public_z85, late.secret_z85});
    fresh.socket().set(zmq::sockopt::sndtimeo, 200);
    fresh.send_frames({std::string(codec::kSignature), codec::encode_request(Request{7, cmd::Ping{}})});
    admitted = fresh.receive(200ms).has_value();
  }
  EXPECT_TRUE(admitted) << "a key added to the file is admitted after SIGHUP";

  // ab's open connection loses access on its next message.
  auto r = ab->call(cmd::Ping{});
  EXPECT_EQ(r.code, Code::forbidden);
  EXPECT_NE(r.message.find("no longer admitted"), std::string::npos) << r.message;
  // ab's subscription is cut: the admin submits for ab, ab hears nothing.
  std::this_thread::sleep_for(300ms);
  while (ab_sub.next(50ms)) {}
  admin_->ok<reply::Submit>(cmd::Submit{"q", "after-revoke", "ab", text("x"), std::nullopt});
  EXPECT_FALSE(ab_sub.next(500ms)) << "a revoked key's subscription must stop";
  // Others keep working (the admin's connection was not dropped).
  EXPECT_EQ(admin_->call(cmd::Ping{}).code, Code::ok);
}

TEST_F(Secure, AMalformedPrincipalsFileOnSighupKeepsTheOldOne) {
  {
    std::ofstream f(dir_.path() / "principals");
    f << "this is not a principals file\n";
  }
  ::kill(broker_->pid(), SIGHUP);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(peer("ab")->call(cmd::Ping{}).code, Code::ok);
  EXPECT_EQ(admin_->call(cmd::Ping{}).code, Code::ok);
  EXPECT_TRUE(broker_->alive());
}

// Start-up refusals need no running broker.
class SecureStart : public Secure {
 protected:
  void SetUp() override {}
};

TEST_F(SecureStart, BadKeyFilesAndPrincipalsStopTheBrokerWithAClearMessage) {
  const auto secret = (dir_.path() / "broker.secret").string(), principals = (dir_.path() / "principals").string();
  const auto data = (dir_.path() / "data").string();
  ::chmod(secret.c_str(), 0644);
  auto [rc, out] = testing::run_broker_once({"--data", data, "--curve-secret", secret, "--principals", principals});
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("readable by its owner only"), std::string::npos) << out;
  ::chmod(secret.c_str(), 0600);

  {
    std::ofstream f(principals, std::ios::app);
    f << who_.at("ab").pair.public_z85 << " admin intruder\n";
  }
  std::tie(rc, out) = testing::run_broker_once({"--data", data, "--curve-secret", secret, "--principals", principals});
  EXPECT_EQ(rc, 2) << out;
  // A comment line, one line per principal, then the intruder's.
  const std::string line = "principals:" + std::to_string(who_.size() + 2) + ": this key appears twice";
  EXPECT_NE(out.find(line), std::string::npos) << out;

  std::tie(rc, out) = testing::run_broker_once({"--data", data, "--curve-secret", secret});
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("go together"), std::string::npos) << out;
}

TEST(PlainMode, ANonLoopbackBindWithoutCurveIsRefusedUnlessInsecure) {
  testing::TempDir dir;
  auto [rc, out] = testing::run_broker_once({"--data", (dir.path() / "data").string(), "--router", "tcp://0.0.0.0:*"});
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("without CURVE"), std::string::npos) << out;
  // --insecure: it starts (and says so in its log).
  BrokerProcess b(dir.path() / "data2", {"--router", "tcp://0.0.0.0:*", "--insecure"});
  EXPECT_TRUE(b.alive());
}

}  // namespace
}  // namespace ledgerq
