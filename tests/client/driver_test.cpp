// Driver: datasources, latest, update, and following request topics.
#include <gtest/gtest.h>

#include <algorithm>

#include "support.hpp"

namespace {
using namespace lqt;

class DriverTest : public BrokerTest {};

TEST_F(DriverTest, DatasourceLifecycle) {
  lq::Driver d(driver_options());
  EXPECT_TRUE(d.create_datasource("a"));
  EXPECT_FALSE(d.create_datasource("a"));
  EXPECT_TRUE(d.create_datasource("b.2"));
  auto list = d.list_datasources();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].datasource, "a");
  EXPECT_EQ(list[1].datasource, "b.2");
  EXPECT_GT(list[0].created, 0u);
  EXPECT_TRUE(d.delete_datasource("a"));
  EXPECT_FALSE(d.delete_datasource("a"));
  EXPECT_EQ(d.list_datasources().size(), 1u);
  expect_code(lq::Code::bad_request, [&] { (void)d.create_datasource("no spaces"); });
}

TEST_F(DriverTest, LatestAndUpdate) {
  lq::Driver d(driver_options());
  ASSERT_TRUE(d.create_datasource("ds"));
  EXPECT_FALSE(d.latest("ds").has_value());
  expect_code(lq::Code::not_found, [&] { (void)d.latest("nope"); });

  lq::Client c("alice", client_options());
  auto s = c.submit("ds", "j1", lq::Payload::from_text("hi"));
  auto latest = d.latest("ds");
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->type, lq::EntryType::request);
  EXPECT_EQ(latest->job, "j1");
  EXPECT_EQ(latest->client, "alice");
  EXPECT_EQ(latest->timestamp, s.timestamp);
  ASSERT_TRUE(latest->request);
  EXPECT_EQ(latest->request->as_text(), "hi");

  auto r = d.update("ds", "j1", lq::JobStatus::accepted);
  EXPECT_EQ(r.status, lq::JobStatus::accepted);
  r = d.update("ds", "j1", lq::JobStatus::complete, lq::Payload::from_json("[1,2]"));
  EXPECT_EQ(r.status, lq::JobStatus::complete);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(r.response->to_json(), "[1,2]");
  // Out of a terminal status: refused.
  expect_code(lq::Code::conflict, [&] { (void)d.update("ds", "j1", lq::JobStatus::accepted); });
  expect_code(lq::Code::not_found, [&] { (void)d.update("ds", "nope", lq::JobStatus::accepted); });
}

TEST_F(DriverTest, FollowCatchesUpThenGoesLive) {
  Collector<lq::RequestEntry> got;
  lq::Driver d(driver_options());
  ASSERT_TRUE(d.create_datasource("ds"));
  lq::Client c("alice", client_options());
  std::vector<lq::Micros> before;
  for (int i = 0; i < 5; ++i) before.push_back(c.submit("ds", "old" + std::to_string(i), lq::Payload()).timestamp);

  d.follow("ds", 0, [&](const lq::RequestEntry& e) { got.push(e); });
  for (int i = 0; i < 5; ++i) (void)c.submit("ds", "new" + std::to_string(i), lq::Payload());
  (void)c.cancel("ds", "new0");

  ASSERT_TRUE(got.wait_size(11));
  auto es = got.items();
  ASSERT_EQ(es.size(), 11u) << "exactly once";
  for (std::size_t i = 0; i < es.size(); ++i) {
    EXPECT_EQ(es[i].seq, i + 1);
    if (i > 0) {
      EXPECT_GT(es[i].timestamp, es[i - 1].timestamp);
    }
  }
  EXPECT_EQ(es[0].job, "old0");
  EXPECT_EQ(es[5].job, "new0");
  EXPECT_EQ(es[10].type, lq::EntryType::cancel);
  EXPECT_EQ(es[10].job, "new0");
  EXPECT_EQ(d.last_timestamp("ds"), es[10].timestamp);
}

TEST_F(DriverTest, FollowFromATimestamp) {
  Collector<lq::RequestEntry> got;
  lq::Driver d(driver_options());
  ASSERT_TRUE(d.create_datasource("ds"));
  lq::Client c("alice", client_options());
  std::vector<lq::Micros> ts;
  for (int i = 0; i < 5; ++i) ts.push_back(c.submit("ds", "j" + std::to_string(i), lq::Payload()).timestamp);

  d.follow("ds", ts[3], [&](const lq::RequestEntry& e) { got.push(e); });
  ASSERT_TRUE(got.wait_size(2));
  (void)c.submit("ds", "j5", lq::Payload());
  ASSERT_TRUE(got.wait_size(3));
  auto es = got.items();
  ASSERT_EQ(es.size(), 3u);
  EXPECT_EQ(es[0].job, "j3");
  EXPECT_EQ(es[1].job, "j4");
  EXPECT_EQ(es[2].job, "j5");
}

TEST_F(DriverTest, FollowErrorsAndUnfollow) {
  Collector<lq::RequestEntry> got;
  Collector<lq::RequestEntry> got2;
  lq::Driver d(driver_options());
  expect_code(lq::Code::not_found, [&] { d.follow("nope", 0, [](const lq::RequestEntry&) {}); });
  ASSERT_TRUE(d.create_datasource("ds"));
  d.follow("ds", 0, [&](const lq::RequestEntry& e) { got.push(e); });
  EXPECT_THROW(d.follow("ds", 0, [](const lq::RequestEntry&) {}), std::invalid_argument);

  lq::Client c("alice", client_options());
  (void)c.submit("ds", "j1", lq::Payload());
  ASSERT_TRUE(got.wait_size(1));
  d.unfollow("ds");
  (void)c.submit("ds", "j2", lq::Payload());
  // The driver no longer follows: a second follower from j2 on sees only j2,
  // and the first collector stayed at one entry.
  lq::Driver d2(driver_options());
  d2.follow("ds", 0, [&](const lq::RequestEntry& e) { got2.push(e); });
  ASSERT_TRUE(got2.wait_size(2));
  EXPECT_EQ(got.size(), 1u);
}

// A burst over the PUB/SUB high-water marks with a slow follower: entries
// the sockets drop come back through `since`, each exactly once, in order.
TEST_F(DriverTest, BurstWithSlowFollowerIsExactlyOnce) {
  Collector<lq::RequestEntry> got;
  lq::Driver d(driver_options());
  ASSERT_TRUE(d.create_datasource("ds"));
  d.follow("ds", 0, [&](const lq::RequestEntry& e) {
    got.push(e);
    if (e.seq % 100 == 0) std::this_thread::sleep_for(20ms);  // back-pressure, not a wait
  });
  lq::Client c("alice", client_options());
  constexpr int kJobs = 3000;
  for (int base = 0; base < kJobs; base += 250) {
    std::vector<std::future<lq::SubmitResult>> fs;
    for (int i = base; i < base + 250; ++i) fs.push_back(c.submit_async("ds", "b" + std::to_string(i), lq::Payload()));
    for (auto& f : fs) (void)f.get();
  }
  ASSERT_TRUE(got.wait_size(kJobs, 60s));
  auto last = d.latest("ds");
  ASSERT_TRUE(last);
  auto es = got.items();
  ASSERT_EQ(es.size(), static_cast<std::size_t>(kJobs));
  for (std::size_t i = 0; i < es.size(); ++i) ASSERT_EQ(es[i].seq, i + 1);
  EXPECT_EQ(es.back().timestamp, last->timestamp);
}

// The whole loop: a driver follows, accepts and completes; the client's
// wait_for sees complete with the response, and its notices are in order.
TEST_F(DriverTest, DriverCompletesJobsClientWaits) {
  lq::Driver d(driver_options());
  ASSERT_TRUE(d.create_datasource("ds"));
  d.follow("ds", 0, [&](const lq::RequestEntry& e) {
    if (e.type != lq::EntryType::request) return;
    // Callbacks run on the I/O thread: use the async forms there.
    (void)d.update_async("ds", e.job, lq::JobStatus::accepted);
    (void)d.update_async("ds", e.job, lq::JobStatus::complete,
                         lq::Payload::from_text("done:" + e.request->as_text()));
  });

  Collector<lq::StatusNotice> notices;
  lq::Client c("alice", client_options([&](const lq::StatusNotice& n) { notices.push(n); }));
  constexpr int kJobs = 10;
  for (int i = 0; i < kJobs; ++i) (void)c.submit("ds", "j" + std::to_string(i), lq::Payload::from_text(std::to_string(i)));
  for (int i = 0; i < kJobs; ++i) {
    auto r = c.wait_for("ds", "j" + std::to_string(i), 10s);
    ASSERT_TRUE(r) << "job " << i;
    EXPECT_EQ(r->status, lq::JobStatus::complete);
    ASSERT_TRUE(r->response);
    EXPECT_EQ(r->response->as_text(), "done:" + std::to_string(i));
  }
  // submitted, accepted, complete for each job.
  ASSERT_TRUE(notices.wait_size(3 * kJobs));
  ASSERT_TRUE(c.sync(5s));
  auto ns = notices.items();
  ASSERT_EQ(ns.size(), 3u * kJobs);
  for (std::size_t i = 0; i < ns.size(); ++i) EXPECT_EQ(ns[i].seq, i + 1);
  EXPECT_EQ(c.last_seq(), 3u * kJobs);
}

TEST_F(DriverTest, WaitForWithAPredicateAndAfterTheFact) {
  lq::Driver d(driver_options());
  ASSERT_TRUE(d.create_datasource("ds"));
  lq::Client c("alice", client_options());
  (void)c.submit("ds", "j1", lq::Payload());
  EXPECT_FALSE(c.wait_for("ds", "j1", 50ms).has_value()) << "not terminal yet";

  std::thread worker([&] { (void)d.update("ds", "j1", lq::JobStatus::accepted); });
  auto acc = c.wait_for("ds", "j1", 10s, [](const lq::StatusRecord& r) { return r.status != lq::JobStatus::submitted; });
  worker.join();
  ASSERT_TRUE(acc);
  EXPECT_EQ(acc->status, lq::JobStatus::accepted);

  (void)d.update("ds", "j1", lq::JobStatus::failed, std::nullopt, std::string("boom"));
  // Already terminal before the wait starts: seen through the status query.
  auto fin = c.wait_for("ds", "j1", 10s);
  ASSERT_TRUE(fin);
  EXPECT_EQ(fin->status, lq::JobStatus::failed);
  EXPECT_EQ(fin->error, "boom");
  expect_code(lq::Code::not_found, [&] { (void)c.wait_for("ds", "nope", 1s); });
}

}  // namespace
