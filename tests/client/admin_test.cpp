// Work-queue options and the operator's tools against a real broker:
// datasource options, submit options and batches, queue_full, lookup,
// count, scan, retry_failed, delete_jobs.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "support.hpp"

namespace {
using namespace lqt;

class AdminTest : public BrokerTest {};

TEST_F(AdminTest, DatasourceOptionsAndCounts) {
  lq::Driver d(driver_options());
  lq::DatasourceOptions o;
  o.max_pending = 10;
  o.lease = 5000ms;
  o.retry_base = 100ms;
  o.resources = true;
  EXPECT_TRUE(d.create_datasource("ds", o));
  // Exists: not an error, and the options stay as they were.
  lq::DatasourceOptions other;
  other.max_pending = 99;
  EXPECT_FALSE(d.create_datasource("ds", other));
  auto list = d.list_datasources();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].options, o);
  EXPECT_EQ(list[0].counts.submitted, 0u);

  lq::DatasourceOptions now = o;
  now.dequeue_rate = 50;
  now.retry_cap = 2000ms;
  EXPECT_EQ(d.configure_datasource("ds", now), now);
  EXPECT_EQ(d.list_datasources()[0].options, now);
  expect_code(lq::Code::not_found, [&] { (void)d.configure_datasource("nope", now); });

  lq::Client c("alice", client_options());
  (void)c.submit("ds", "a", lq::Payload());
  (void)c.submit("ds", "b", lq::Payload());
  (void)c.cancel("ds", "b");
  auto counts = d.list_datasources()[0].counts;
  EXPECT_EQ(counts.submitted, 1u);
  EXPECT_EQ(counts.cancelled, 1u);
  EXPECT_EQ(counts.accepted, 0u);
}

TEST_F(AdminTest, SubmitOptionsAreRecorded) {
  lq::Driver d(driver_options());
  ASSERT_TRUE(d.create_datasource("ds"));
  lq::Client c("alice", client_options());
  lq::JobOptions o;
  o.priority = 2;
  o.attempts = 4;
  o.type = "img";
  o.key = "user-7";
  o.custom_status = "new";
  o.run_after = c.ping().now + 3'600'000'000ull;  // an hour from now
  (void)c.submit("ds", "j1", lq::Payload::from_text("x"), o);

  auto r = c.status("ds", "j1");
  EXPECT_EQ(r.priority, 2);
  EXPECT_EQ(r.attempts, 4u);
  EXPECT_EQ(r.attempts_made, 0u);
  EXPECT_EQ(r.type, "img");
  EXPECT_EQ(r.key, "user-7");
  EXPECT_EQ(r.custom_status, "new");
  EXPECT_EQ(r.run_after, *o.run_after);
  EXPECT_EQ(r.lifecycle, lq::Lifecycle::none);


  // Not eligible before run_after.
  lq::Worker w("ds", [&] {
    auto wo = lq::WorkerOptions{};
    wo.router = broker_->router();
    wo.requests_pub = broker_->requests_pub();
    wo.timeout = 5s;
    return wo;
  }());
  EXPECT_TRUE(w.dequeue(1).empty());

  lq::JobOptions bad;
  bad.priority = 7;
  expect_code(lq::Code::bad_request, [&] { (void)c.submit("ds", "j2", lq::Payload(), bad); });
  lq::JobOptions no_resources;
  no_resources.key = "k";
  no_resources.lifecycle = lq::Lifecycle::create;
  expect_code(lq::Code::bad_request, [&] { (void)c.submit("ds", "j3", lq::Payload(), no_resources); });
}

TEST_F(AdminTest, ResourceLifecycles) {
  lq::Driver d(driver_options());
  lq::DatasourceOptions o;
  o.resources = true;
  ASSERT_TRUE(d.create_datasource("ds", o));
  lq::Client c("alice", client_options());
  lq::JobOptions use;
  use.key = "vm-1";
  // Nothing creates vm-1: refused early.
  expect_code(lq::Code::not_found, [&] { (void)c.submit("ds", "use-0", lq::Payload(), use); });
  lq::JobOptions create = use;
  create.lifecycle = lq::Lifecycle::create;
  (void)c.submit("ds", "create", lq::Payload(), create);
  (void)c.submit("ds", "use-1", lq::Payload(), use);  // will exist by its turn
  EXPECT_EQ(c.status("ds", "create").lifecycle, lq::Lifecycle::create);
}

TEST_F(AdminTest, SubmitBatchAndQueueFull) {
  lq::Driver d(driver_options());
  lq::DatasourceOptions o;
  o.max_pending = 3;
  ASSERT_TRUE(d.create_datasource("ds", o));
  lq::Client c("alice", client_options());
  (void)c.submit("ds", "old", lq::Payload::from_text("v1"));

  lq::JobOptions p2;
  p2.priority = 2;
  std::vector<lq::BatchJob> batch = {
      {"old", lq::Payload::from_text("v1"), {}},    // duplicate: ok
      {"old2", lq::Payload::from_text("a"), p2},    // ok
      {"new", lq::Payload::from_text("b"), {}},     // ok: 3 pending now
      {"over", lq::Payload::from_text("c"), {}},    // queue_full
  };
  auto res = c.submit_batch("ds", batch);
  ASSERT_EQ(res.size(), 4u);
  EXPECT_TRUE(res[0].ok());
  EXPECT_TRUE(res[0].duplicate);
  EXPECT_TRUE(res[1].ok());
  EXPECT_FALSE(res[1].duplicate);
  EXPECT_GT(res[1].timestamp, 0u);
  EXPECT_TRUE(res[2].ok());
  EXPECT_EQ(res[3].code, lq::Code::queue_full);
  EXPECT_TRUE(lq::is_retryable(res[3].code));
  EXPECT_FALSE(res[3].message.empty());
  EXPECT_EQ(c.status("ds", "old2").priority, 2);

  try {
    (void)c.submit("ds", "single", lq::Payload());
    ADD_FAILURE() << "expected queue_full";
  } catch (const lq::Error& e) {
    EXPECT_EQ(e.code(), lq::Code::queue_full);
    EXPECT_TRUE(e.retryable());
  }

  // A conflict is one item's failure, not the batch's.
  res = c.submit_batch("ds", {{"old", lq::Payload::from_text("changed"), {}}});
  ASSERT_EQ(res.size(), 1u);
  EXPECT_EQ(res[0].code, lq::Code::conflict);

  expect_code(lq::Code::bad_request, [&] { (void)c.submit_batch("ds", {}); });
  expect_code(lq::Code::not_found, [&] { (void)c.submit_batch("nope", batch); });
}

TEST_F(AdminTest, HistoryListsAJobsEventsInOrder) {
  lq::Driver d(driver_options());
  ASSERT_TRUE(d.create_datasource("ds"));
  lq::Client c("alice", client_options());
  const auto submitted = c.submit("ds", "h1", lq::Payload::from_json(R"({"n": 1})"));
  lq::JobOptions later;
  later.priority = 3;  // behind h1 even when h1 is retried
  (void)c.submit("ds", "h2", lq::Payload(), later);  // another job: none of its events are h1's
  lq::WorkerOptions wo = worker_options();
  lq::Worker w("ds", wo);
  auto first = w.dequeue(1);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(first[0].job, "h1");
  w.ack_failure("h1", "flaky", 0ms);  // retrying at once
  auto second = w.dequeue(1);
  ASSERT_EQ(second.size(), 1u);
  ASSERT_EQ(second[0].job, "h1");
  w.ack_success("h1", lq::Payload::from_json(R"({"ok": true})"), "done");
  const auto final_state = c.status("ds", "h1");

  auto events = d.history_all("ds", "h1");
  std::vector<std::string> types;
  for (const auto& e : events) types.push_back(e.type);
  ASSERT_EQ(types, (std::vector<std::string>{"submit", "lease", "ack", "lease", "ack"}));
  for (std::size_t i = 1; i < events.size(); ++i) EXPECT_LT(events[i - 1].at, events[i].at);
  EXPECT_EQ(events[0].at, submitted.timestamp);
  EXPECT_EQ(events[0].client, "alice");
  EXPECT_EQ(events[0].request, lq::Payload::from_json(R"({"n": 1})"));
  EXPECT_EQ(events[1].token, first[0].token);
  EXPECT_EQ(events[2].status, lq::JobStatus::retrying);
  EXPECT_EQ(events[2].error, "flaky");
  EXPECT_EQ(events[3].token, second[0].token);
  EXPECT_EQ(events[4].status, lq::JobStatus::complete);
  EXPECT_EQ(events[4].at, final_state.updated);
  for (const auto& e : events) EXPECT_EQ(e.job, "h1");
  // One page here: it ends with an empty continuation.
  auto page = d.history("ds", "h1");
  EXPECT_EQ(page.events.size(), 5u);
  EXPECT_EQ(page.continuation, "");
  expect_code(lq::Code::not_found, [&] { (void)d.history("ds", "nobody"); });
  expect_code(lq::Code::bad_request, [&] { (void)d.history("ds", "h1", "not-a-continuation"); });
}

// Entries read back from the log (latest, since) carry the submit's options
// as the live entry does: a follower catches up through `since` (always for
// its first entry), so it would otherwise see no options.
TEST_F(AdminTest, EntriesCarrySubmitOptions) {
  Collector<lq::RequestEntry> entries;
  lq::Driver d(driver_options());
  ASSERT_TRUE(d.create_datasource("ds"));
  d.follow("ds", 0, [&](const lq::RequestEntry& e) { entries.push(e); });
  lq::Client c("alice", client_options());
  lq::JobOptions o;
  o.priority = 3;
  o.type = "img";
  (void)c.submit("ds", "j1", lq::Payload(), o);
  auto e = d.latest("ds");
  ASSERT_TRUE(e);
  ASSERT_TRUE(e->options);
  EXPECT_EQ(e->options->priority, o.priority);
  EXPECT_EQ(e->options->type, "img");
  ASSERT_TRUE(entries.wait_size(1));
  ASSERT_TRUE(entries.items().front().options);
  EXPECT_EQ(entries.items().front().options->type, "img");
}

class AdminToolsTest : public AdminTest {
 protected:
  void SetUp() override {
    AdminTest::SetUp();
    d_.emplace(driver_options());
    c_.emplace("alice", client_options());
    ASSERT_TRUE(d_->create_datasource("ds"));
    for (int i = 0; i < 7; ++i) {
      lq::JobOptions o;
      o.priority = static_cast<std::uint8_t>(1 + i % 3);
      o.type = i < 4 ? "a" : "b";
      o.attempts = 1;
      (void)c_->submit("ds", "j" + std::to_string(i), lq::Payload::from_text("body" + std::to_string(i)), o);
    }
  }
  std::optional<lq::Driver> d_;
  std::optional<lq::Client> c_;
};

TEST_F(AdminToolsTest, Lookup) {
  auto found = d_->lookup("ds", std::vector<std::string>{"j2", "missing", "j0"}, true);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].state.job, "j2");
  ASSERT_TRUE(found[0].request);
  EXPECT_EQ(found[0].request->as_text(), "body2");
  EXPECT_EQ(found[1].state.job, "j0");
  auto one = d_->lookup("ds", "j1");
  ASSERT_TRUE(one);
  EXPECT_FALSE(one->request);
  EXPECT_EQ(one->state.client, "alice");
  EXPECT_FALSE(d_->lookup("ds", "missing"));
  expect_code(lq::Code::not_found, [&] { (void)d_->lookup("nope", "j1"); });
}

TEST_F(AdminToolsTest, LookupOfMoreThanOneReplyHoldsAsksAgainForTheRest) {
  // Five bodies of 400 kB: a reply carries its first job and up to 1 MiB
  // after it, so the broker answers in parts (`more`); lookup gathers them.
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back("big" + std::to_string(i));
    (void)c_->submit("ds", ids.back(), lq::Payload::from_bytes(std::string(400'000, static_cast<char>('a' + i))));
  }
  ids.insert(ids.begin() + 2, "missing");
  auto found = d_->lookup("ds", ids, true);
  ASSERT_EQ(found.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(found[static_cast<std::size_t>(i)].state.job, "big" + std::to_string(i));
    ASSERT_TRUE(found[static_cast<std::size_t>(i)].request);
    EXPECT_EQ(found[static_cast<std::size_t>(i)].request->as_bytes(), std::string(400'000, static_cast<char>('a' + i)));
  }
}

TEST_F(AdminToolsTest, Count) {
  EXPECT_EQ(d_->count("ds", lq::JobStatus::submitted).count, 7u);
  EXPECT_EQ(d_->count("ds", lq::JobStatus::submitted, 1).count, 3u);  // j0 j3 j6
  EXPECT_EQ(d_->count("ds", lq::JobStatus::complete).count, 0u);
  auto due = d_->count("ds", lq::JobStatus::submitted, std::nullopt, lq::Due::now);
  EXPECT_EQ(due.count, 7u);
  EXPECT_FALSE(due.capped);
  EXPECT_EQ(d_->count("ds", lq::JobStatus::submitted, std::nullopt, lq::Due::future).count, 0u);
  expect_code(lq::Code::bad_request, [&] { (void)d_->count("ds", lq::JobStatus::complete, std::nullopt, lq::Due::now); });
  expect_code(lq::Code::bad_request, [&] { (void)d_->count("ds", lq::JobStatus::submitted, 4); });
}

TEST_F(AdminToolsTest, ScanPagesAndScanAll) {
  std::set<std::string> seen;
  std::string next;
  int pages = 0;
  do {
    auto page = d_->scan("ds", {}, 3, next);
    for (const auto& j : page.jobs) EXPECT_TRUE(seen.insert(j.state.job).second) << "seen twice: " << j.state.job;
    next = page.continuation;
    ASSERT_LT(++pages, 20);
  } while (!next.empty());
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_GE(pages, 3);

  lq::JobFilter b;
  b.type = "b";
  std::vector<std::string> bs;
  EXPECT_EQ(d_->scan_all("ds", b, [&](const lq::JobInfo& j) {
    bs.push_back(j.state.job);
    return true;
  }), 3u);
  std::sort(bs.begin(), bs.end());
  EXPECT_EQ(bs, (std::vector<std::string>{"j4", "j5", "j6"}));

  // Stopping early.
  EXPECT_EQ(d_->scan_all("ds", {}, [](const lq::JobInfo&) { return false; }), 1u);

  lq::JobFilter a1;
  a1.type = "a";
  a1.priority = 1;
  auto page = d_->scan("ds", a1);
  std::vector<std::string> ids;
  for (const auto& j : page.jobs) ids.push_back(j.state.job);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"j0", "j3"}));
  // A continuation of another scan is refused.
  auto first = d_->scan("ds", b, 1);
  ASSERT_FALSE(first.continuation.empty());
  lq::JobFilter by_client;
  by_client.client = "alice";
  expect_code(lq::Code::bad_request, [&] { (void)d_->scan("ds", by_client, 1, first.continuation); });
}

TEST_F(AdminToolsTest, RetryFailedAndDeleteJobs) {
  lq::WorkerOptions wo;
  wo.router = broker_->router();
  wo.requests_pub = broker_->requests_pub();
  wo.timeout = 5s;
  lq::Worker w("ds", wo);
  auto got = w.dequeue(2);  // j0, j3 (priority 1)
  ASSERT_EQ(got.size(), 2u);
  for (const auto& j : got) w.ack_failure(j.job, "broken");  // attempts 1: failed at once
  for (const auto& j : got) EXPECT_EQ(c_->status("ds", j.job).status, lq::JobStatus::failed);
  EXPECT_EQ(d_->count("ds", lq::JobStatus::failed).count, 2u);

  lq::RetryOptions ro;
  ro.limit = 1;
  EXPECT_EQ(d_->retry_failed("ds", ro), 1u);
  EXPECT_EQ(d_->count("ds", lq::JobStatus::failed).count, 1u);
  EXPECT_EQ(d_->count("ds", lq::JobStatus::retrying).count, 1u);
  ro = {};
  ro.attempts = 3;
  EXPECT_EQ(d_->retry_failed("ds", ro), 1u);
  EXPECT_EQ(d_->retry_failed("ds"), 0u);
  for (const auto& j : got) {
    auto r = c_->status("ds", j.job);
    EXPECT_EQ(r.status, lq::JobStatus::retrying);
    EXPECT_TRUE(r.error.empty());
  }

  lq::JobFilter none;
  expect_code(lq::Code::bad_request, [&] { (void)d_->delete_jobs("ds", none); });
  lq::JobFilter sub_b;
  sub_b.status = lq::JobStatus::submitted;
  sub_b.type = "b";
  EXPECT_EQ(d_->delete_jobs("ds", sub_b), 3u);
  EXPECT_FALSE(d_->lookup("ds", "j4"));
  EXPECT_EQ(d_->count("ds", lq::JobStatus::submitted).count, 2u);  // j1 j2
  lq::JobFilter sub;
  sub.status = lq::JobStatus::submitted;
  EXPECT_EQ(d_->delete_jobs("ds", sub, 1), 1u);
  EXPECT_EQ(d_->count("ds", lq::JobStatus::submitted).count, 1u);
}

// By id over a real broker: the listed failed job only, and a delete of a
// named job whatever its status.
TEST_F(AdminToolsTest, RetryAndDeleteById) {
  lq::WorkerOptions wo;
  wo.router = broker_->router();
  wo.requests_pub = broker_->requests_pub();
  wo.timeout = 5s;
  lq::Worker w("ds", wo);
  auto got = w.dequeue(2);  // j0, j3 (priority 1)
  ASSERT_EQ(got.size(), 2u);
  for (const auto& j : got) w.ack_failure(j.job, "broken");
  ASSERT_EQ(d_->count("ds", lq::JobStatus::failed).count, 2u);

  lq::RetryOptions ro;
  ro.jobs = std::vector<std::string>{"j3", "j1", "nope"};  // j1 is submitted: left alone
  EXPECT_EQ(d_->retry_failed("ds", ro), 1u);
  EXPECT_EQ(c_->status("ds", "j3").status, lq::JobStatus::retrying);
  EXPECT_EQ(c_->status("ds", "j0").status, lq::JobStatus::failed);
  EXPECT_EQ(c_->status("ds", "j1").status, lq::JobStatus::submitted);
  ro.jobs = std::vector<std::string>{};
  expect_code(lq::Code::bad_request, [&] { (void)d_->retry_failed("ds", ro); });
  EXPECT_EQ(c_->status("ds", "j0").status, lq::JobStatus::failed);  // an empty list is not "all"

  EXPECT_EQ(d_->delete_jobs("ds", std::vector<std::string>{"j0", "j5", "nope"}), 2u);  // failed, submitted
  EXPECT_FALSE(d_->lookup("ds", "j0"));
  EXPECT_FALSE(d_->lookup("ds", "j5"));
  EXPECT_TRUE(d_->lookup("ds", "j3"));
  expect_code(lq::Code::bad_request, [&] { (void)d_->delete_jobs("ds", std::vector<std::string>{}); });
  EXPECT_EQ(d_->count("ds", lq::JobStatus::submitted).count, 4u);  // j1 j2 j4 j6
}

}  // namespace
