// libclient against a broker in secure mode: credentials from key files,
// the Client's notices over a CURVE subscription, a Worker's lease and ack,
// and what a key may not do. Keys are made with the CLI, as a user would.
#include <sys/stat.h>

#include <fstream>

#include "support.hpp"

namespace lqt {
namespace {

class SecureClient : public ::testing::Test {
 protected:
  void SetUp() override {
    keygen("broker");
    std::ofstream principals(dir_.path() / "principals");
    principals << keygen("ops", "admin ops") << keygen("app", "client app") << keygen("w", "worker w q");
    principals.close();
    broker_ = std::make_unique<ledgerq::testing::BrokerProcess>(
        dir_.path() / "data", std::vector<std::string>{"--sync", "none", "--curve-secret", path("broker.secret"),
                                                       "--principals", path("principals")});
  }

  std::string path(const std::string& name) const { return (dir_.path() / name).string(); }

  // `ledgerq keygen`; with a principal, returns its principals-file line.
  std::string keygen(const std::string& name, const std::string& principal = "") {
    std::vector<std::string> args{"keygen", path(name)};
    if (!principal.empty()) args.insert(args.end(), {"--principal", principal});
    auto [rc, out] = ledgerq::tools::run_once(LEDGERQ_CLI_PATH, args);
    EXPECT_EQ(rc, 0) << out;
    return out;
  }

  lq::Credentials as(const std::string& name) const {
    return lq::Credentials::from_files(path("broker.pub"), path(name + ".secret"));
  }

  ledgerq::testing::TempDir dir_;
  std::unique_ptr<ledgerq::testing::BrokerProcess> broker_;
};

TEST_F(SecureClient, AClientAndAWorkerWithTheirKeys) {
  lq::DriverOptions admin;
  admin.router = broker_->router();
  admin.requests_pub = broker_->requests_pub();
  admin.credentials = as("ops");
  lq::Driver ops(admin);
  EXPECT_TRUE(ops.create_datasource("q"));

  Collector<lq::StatusNotice> notices;
  lq::ClientOptions co;
  co.router = broker_->router();
  co.status_pub = broker_->status_pub();
  co.credentials = as("app");
  co.on_notice = [&](const lq::StatusNotice& n) { notices.push(n); };
  lq::Client app("app", co);
  app.submit("q", "job-1", lq::Payload::from_json(R"({"w":640})"));

  lq::WorkerOptions wo;
  wo.router = broker_->router();
  wo.requests_pub = broker_->requests_pub();
  wo.credentials = as("w");
  wo.name = "w:1";
  lq::Worker worker("q", wo);
  auto jobs = worker.dequeue(1, 5s);
  ASSERT_EQ(jobs.size(), 1u);
  worker.ack_success("job-1", lq::Payload::from_text("done"));

  auto done = app.wait_for("q", "job-1", 10s);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, lq::JobStatus::complete);
  // The notices came over the CURVE subscription: submitted, accepted, complete.
  EXPECT_TRUE(notices.wait_any([](const lq::StatusNotice& n) { return n.data.status == lq::JobStatus::complete; }));
}

TEST_F(SecureClient, AKeyActsOnlyAsItsPrincipal) {
  lq::ClientOptions co;
  co.router = broker_->router();
  co.status_pub = broker_->status_pub();
  co.credentials = as("app");
  co.timeout = 5s;
  lq::Client impostor("ops", co);  // app's key, another client id
  try {
    impostor.submit("q", "job-x", lq::Payload::from_text("x"));
    ADD_FAILURE() << "app's key submitted as 'ops'";
  } catch (const lq::Error& e) {
    EXPECT_EQ(e.code(), lq::Code::forbidden) << e.what();
  }
  // A key the broker does not know gets no connection: a timeout, not an answer.
  keygen("stranger");
  co.credentials = as("stranger");
  co.timeout = 300ms;
  lq::Client stranger("app", co);
  try {
    (void)stranger.ping();
    ADD_FAILURE() << "an unknown key was answered";
  } catch (const lq::Error& e) {
    EXPECT_EQ(e.code(), lq::Code::timeout) << e.what();
  }
}

TEST_F(SecureClient, KeyFilesAreCheckedWhenRead) {
  ::chmod(path("app.secret").c_str(), 0644);
  try {
    (void)as("app");
    ADD_FAILURE() << "a world-readable secret key was accepted";
  } catch (const lq::Error& e) {
    EXPECT_EQ(e.code(), lq::Code::bad_request);
    EXPECT_NE(std::string(e.what()).find("owner only"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)lq::Credentials::from_files("not-a-key", path("w.secret")), lq::Error);
}

}  // namespace
}  // namespace lqt
