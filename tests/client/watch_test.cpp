// Watching a client's status topic: recovery with `missed` at start and on
// gaps, exactly once and in seq order.
#include <gtest/gtest.h>

#include "support.hpp"

namespace {
using namespace lqt;

class WatchTest : public BrokerTest {
 protected:
  void SetUp() override {
    BrokerTest::SetUp();
    driver_ = std::make_unique<lq::Driver>(driver_options());
    ASSERT_TRUE(driver_->create_datasource("ds"));
  }

  // n jobs of `client`, each submitted, accepted and completed: 3n notices.
  void run_jobs(const std::string& client, int n, const std::string& prefix = "j") {
    lq::Client c(client, client_options());
    for (int i = 0; i < n; ++i) {
      auto id = prefix + std::to_string(i);
      (void)c.submit("ds", id, lq::Payload());
      (void)driver_->update("ds", id, lq::JobStatus::accepted);
      (void)driver_->update("ds", id, lq::JobStatus::complete);
    }
  }

  static void expect_consecutive(const std::vector<lq::StatusNotice>& ns, std::uint64_t first) {
    for (std::size_t i = 0; i < ns.size(); ++i) ASSERT_EQ(ns[i].seq, first + i) << "at " << i;
  }

  std::unique_ptr<lq::Driver> driver_;
};

// Notices that happened while no watcher ran are recovered with `missed`.
TEST_F(WatchTest, LateWatcherReplaysHistory) {
  run_jobs("alice", 5);
  Collector<lq::StatusNotice> got;
  auto o = client_options([&](const lq::StatusNotice& n) { got.push(n); });
  o.start_after = 0;
  lq::Client c("alice", o);
  ASSERT_TRUE(got.wait_size(15));
  ASSERT_TRUE(c.sync(5s));
  auto ns = got.items();
  ASSERT_EQ(ns.size(), 15u);
  expect_consecutive(ns, 1);
  EXPECT_EQ(ns[0].data.status, lq::JobStatus::submitted);
  EXPECT_EQ(ns[2].data.status, lq::JobStatus::complete);
  EXPECT_EQ(ns[2].data.job, "j0");
  EXPECT_EQ(ns[2].datasource, "ds");
}

// Resuming from a saved seq delivers only what came after it.
TEST_F(WatchTest, ResumeFromSavedSeq) {
  run_jobs("alice", 2);  // seq 1..6
  std::uint64_t saved = 0;
  {
    auto o = client_options();
    o.start_after = 0;
    lq::Client c("alice", o);
    ASSERT_TRUE(c.sync(5s));
    saved = c.last_seq();
  }
  EXPECT_EQ(saved, 6u);
  run_jobs("alice", 2, "k");  // seq 7..12, while nobody watches
  Collector<lq::StatusNotice> got;
  auto o = client_options([&](const lq::StatusNotice& n) { got.push(n); });
  o.start_after = saved;
  lq::Client c("alice", o);
  ASSERT_TRUE(c.sync(5s));
  auto ns = got.items();
  ASSERT_EQ(ns.size(), 6u);
  expect_consecutive(ns, 7);
  EXPECT_EQ(ns[0].data.job, "k0");
}

// The default start is "from now": history is skipped, new notices come.
TEST_F(WatchTest, DefaultStartSkipsHistory) {
  run_jobs("alice", 3);  // seq 1..9
  Collector<lq::StatusNotice> got;
  lq::Client c("alice", client_options([&](const lq::StatusNotice& n) { got.push(n); }));
  ASSERT_TRUE(c.sync(5s));
  EXPECT_EQ(got.size(), 0u);
  EXPECT_EQ(c.last_seq(), 9u);
  (void)c.submit("ds", "fresh", lq::Payload());
  ASSERT_TRUE(got.wait_size(1));
  EXPECT_EQ(got.items()[0].seq, 10u);
  EXPECT_EQ(got.items()[0].data.job, "fresh");
}

// Other clients' notices never reach this one (topics are NUL-terminated:
// "al" must not see "alice").
TEST_F(WatchTest, OnlyOwnNotices) {
  Collector<lq::StatusNotice> got;
  lq::Client al("al", client_options([&](const lq::StatusNotice& n) { got.push(n); }));
  run_jobs("alice", 2);
  lq::Client c("al", client_options());
  (void)c.submit("ds", "mine", lq::Payload());
  ASSERT_TRUE(got.wait_size(1));
  ASSERT_TRUE(al.sync(5s));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got.items()[0].data.job, "mine");
}

// A burst larger than the PUB/SUB high-water marks, with a slow consumer:
// whatever the sockets drop is recovered, and each notice arrives once, in
// order.
TEST_F(WatchTest, BurstWithSlowConsumerIsExactlyOnce) {
  constexpr int kJobs = 3000;
  Collector<lq::StatusNotice> got;
  lq::Client c("alice", client_options([&](const lq::StatusNotice& n) {
    got.push(n);
    // Slow consumer: back-pressure fills the SUB queue so the PUB drops.
    if (n.seq % 100 == 0) std::this_thread::sleep_for(20ms);
  }));
  ASSERT_TRUE(c.sync(5s));
  for (int base = 0; base < kJobs; base += 250) {
    std::vector<std::future<lq::SubmitResult>> fs;
    for (int i = base; i < base + 250; ++i) fs.push_back(c.submit_async("ds", "b" + std::to_string(i), lq::Payload()));
    for (auto& f : fs) (void)f.get();
  }
  ASSERT_TRUE(got.wait_size(kJobs, 60s));
  ASSERT_TRUE(c.sync(10s));
  auto ns = got.items();
  ASSERT_EQ(ns.size(), static_cast<std::size_t>(kJobs));
  expect_consecutive(ns, 1);
}

}  // namespace
