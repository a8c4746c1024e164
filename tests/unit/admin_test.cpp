// Introspection, repair and retention, and the promise that they
// and dequeue read a bounded number of entries whatever the backlog.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "domain/verify.hpp"
#include "harness.hpp"

namespace ledgerq {
namespace {

using testing::body;
using testing::Harness;
constexpr Micros kMs = 1000;

JobOptions typed(std::string type, std::uint8_t prio = 1) {
  JobOptions o;
  o.type = std::move(type);
  o.priority = prio;
  return o;
}

TEST(Admin, LookupWithAndWithoutBodies) {
  Harness h;
  h.datasource("ds");
  h.submit("ds", "a", "c", "body-a");
  auto plain = h.ok<reply::Lookup>(cmd::Lookup{"ds", {"a", "missing"}, false}).jobs;
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_FALSE(plain[0].request);
  auto full = h.ok<reply::Lookup>(cmd::Lookup{"ds", {"a"}, true}).jobs;
  EXPECT_EQ(full[0].request, body("body-a"));
  EXPECT_EQ(h.fails(cmd::Lookup{"ds", {}, false}).code, Code::bad_request);
}

TEST(Admin, CountsByStatusPriorityAndDue) {
  Harness h;
  h.datasource("ds");
  for (int i = 0; i < 5; ++i) h.submit_with("ds", "p1-" + std::to_string(i), typed("", 1));
  for (int i = 0; i < 3; ++i) h.submit_with("ds", "p2-" + std::to_string(i), typed("x", 2));
  JobOptions later = typed("", 2);
  later.run_after = h.now + 60'000 * kMs;
  h.submit_with("ds", "future", later);
  h.dequeue("ds", 2);
  auto count = [&](JobStatus s, std::optional<std::uint8_t> p, std::string due = "") {
    return h.ok<reply::Count>(cmd::Count{"ds", s, p, due}).count;
  };
  EXPECT_EQ(count(JobStatus::submitted, std::nullopt), 7u);
  EXPECT_EQ(count(JobStatus::accepted, std::nullopt), 2u);
  EXPECT_EQ(count(JobStatus::submitted, 2), 4u);
  EXPECT_EQ(count(JobStatus::submitted, std::nullopt, "now"), 6u);
  EXPECT_EQ(count(JobStatus::submitted, std::nullopt, "future"), 1u);
  EXPECT_EQ(count(JobStatus::submitted, 2, "future"), 1u);
  EXPECT_EQ(h.fails(cmd::Count{"ds", JobStatus::complete, std::nullopt, "now"}).code, Code::bad_request);
  auto list = h.ok<reply::DsList>(cmd::DsList{}).datasources;
  EXPECT_EQ(list[0].counts.submitted, 7u);
  EXPECT_EQ(list[0].counts.accepted, 2u);
}

TEST(Admin, ScanPagesThroughEveryMatchOnceWhateverTheFilter) {
  Harness h;
  h.datasource("ds");
  std::set<std::string> want_x;
  for (int i = 0; i < 250; ++i) {
    const std::string job = "j" + std::to_string(i);
    h.submit_with("ds", job, typed(i % 3 ? "x" : "y"), i % 2 ? "alice" : "bob");
    if (i % 3 && i % 2) want_x.insert(job);
  }
  auto page_all = [&](cmd::JobFilter f, std::uint32_t limit) {
    std::vector<std::string> seen;
    std::string cont;
    int pages = 0;
    do {
      auto r = h.ok<reply::Scan>(cmd::Scan{"ds", f, limit, cont});
      for (auto& j : r.jobs) seen.push_back(j.state.job);
      cont = r.continuation;
      ++pages;
    } while (!cont.empty() && pages < 1000);
    return seen;
  };
  auto xs = page_all(cmd::JobFilter{.type = "x", .client = "alice"}, 7);
  EXPECT_EQ(std::set<std::string>(xs.begin(), xs.end()), want_x);
  EXPECT_EQ(xs.size(), want_x.size()) << "no job twice";
  EXPECT_EQ(page_all(cmd::JobFilter{}, 100).size(), 250u);
  EXPECT_EQ(page_all(cmd::JobFilter{.status = JobStatus::submitted}, 33).size(), 250u);
  // A continuation from one scan does not fit another.
  auto r = h.ok<reply::Scan>(cmd::Scan{"ds", cmd::JobFilter{.type = "x"}, 5u, ""});
  ASSERT_FALSE(r.continuation.empty());
  EXPECT_EQ(h.fails(cmd::Scan{"ds", cmd::JobFilter{.type = "y"}, 5u, r.continuation}).code, Code::bad_request);
  EXPECT_EQ(h.fails(cmd::Scan{"ds", cmd::JobFilter{.type = "x"}, 5u, "zz"}).code, Code::bad_request);
}

TEST(Admin, RetryFailedAndDeleteByFilter) {
  Harness h;
  h.datasource("ds");
  for (int i = 0; i < 4; ++i) {
    const std::string job = "f" + std::to_string(i);
    JobOptions once;
    once.attempts = 1;
    h.submit_with("ds", job, once);
    auto t = h.dequeue("ds")[0].state.token;
    h.ack("ds", job, t, "failure");
  }
  EXPECT_EQ(h.ok<reply::Count>(cmd::Count{"ds", JobStatus::failed, std::nullopt, ""}).count, 4u);
  EXPECT_EQ(h.ok<reply::Retry>(cmd::Retry{"ds", 2u, std::nullopt, std::nullopt, 3u}).retried, 3u);
  auto s = h.state("ds", "f0");
  EXPECT_EQ(s.status, JobStatus::retrying);
  EXPECT_EQ(s.attempts, 3u);  // one made, two granted
  EXPECT_EQ(h.dequeue("ds", 10).size(), 3u);
  EXPECT_EQ(h.ok<reply::Delete>(cmd::Delete{"ds", cmd::JobFilter{.status = JobStatus::failed}, std::nullopt}).deleted, 1u);
  EXPECT_EQ(h.fails(cmd::Delete{"ds", cmd::JobFilter{}, std::nullopt}).code, Code::bad_request);
  // Deleted: forgotten, so the id may be submitted anew.
  h.submit("ds", "f3", "c", "a new body");
}

// Four failed jobs f0..f3, a leased one and a submitted one.
void failed_and_others(Harness& h) {
  h.datasource("ds");
  for (int i = 0; i < 4; ++i) {
    const std::string job = "f" + std::to_string(i);
    JobOptions once;
    once.attempts = 1;
    h.submit_with("ds", job, once);
    auto t = h.dequeue("ds")[0].state.token;
    h.ack("ds", job, t, "failure");
  }
  h.submit("ds", "leased", "c");
  ASSERT_EQ(h.dequeue("ds")[0].state.job, "leased");
  h.submit("ds", "waiting", "c");
}

// The view must stay the fold of the log (what ledgerq-replay --verify checks).
void expect_view_is_fold(Harness& h) {
  domain::MemKv rebuilt;
  auto n = domain::fold_log(h.kv, rebuilt);
  ASSERT_TRUE(n.ok()) << n.error().message;
  auto diff = domain::diff_views(h.kv, rebuilt);
  EXPECT_TRUE(diff.empty()) << diff.size() << " differences, first: " << diff.front();
}

TEST(Admin, RetryByIdRetriesOnlyTheListedFailedJobs) {
  Harness h;
  failed_and_others(h);
  cmd::Retry r{.datasource = "ds", .attempts = 2u};
  // Unknown, not failed (leased, submitted), listed twice: only f2, once.
  r.jobs = std::vector<std::string>{"nope", "f2", "leased", "waiting", "f2"};
  auto out = h.run(r);
  ASSERT_TRUE(out.reply.ok()) << out.reply.error().message;
  EXPECT_EQ(std::get<reply::Retry>(out.reply.value()).retried, 1u);
  EXPECT_EQ(out.notices.size(), 1u);  // f2's status notice, and nothing for the others
  EXPECT_EQ(h.state("ds", "f2").status, JobStatus::retrying);
  EXPECT_EQ(h.state("ds", "f2").attempts, 3u);  // one made, two granted
  for (const char* other : {"f0", "f1", "f3"}) EXPECT_EQ(h.state("ds", other).status, JobStatus::failed) << other;
  EXPECT_EQ(h.state("ds", "leased").status, JobStatus::accepted);
  EXPECT_EQ(h.state("ds", "waiting").status, JobStatus::submitted);
  EXPECT_EQ(h.ok<reply::Count>(cmd::Count{"ds", JobStatus::failed, std::nullopt, ""}).count, 3u);
  // With a limit, the first listed ones; the other filters still hold.
  r.jobs = std::vector<std::string>{"f3", "f0", "f1"};
  r.limit = 2u;
  EXPECT_EQ(h.ok<reply::Retry>(r).retried, 2u);
  EXPECT_EQ(h.state("ds", "f1").status, JobStatus::failed);
  r.jobs = std::vector<std::string>{"f1"};
  r.limit.reset();
  r.priority = 2;  // f1 is priority 1
  EXPECT_EQ(h.ok<reply::Retry>(r).retried, 0u);
  EXPECT_EQ(h.state("ds", "f1").status, JobStatus::failed);
  expect_view_is_fold(h);
}

TEST(Admin, DeleteByIdDeletesTheListedJobsWhateverTheirStatus) {
  Harness h;
  failed_and_others(h);
  cmd::Delete d{.datasource = "ds"};
  d.jobs = std::vector<std::string>{"leased", "nope", "f1", "leased"};
  EXPECT_EQ(h.ok<reply::Delete>(d).deleted, 2u);
  {
    domain::View v(h.kv);
    EXPECT_FALSE(v.job("ds", "leased"));
    EXPECT_FALSE(v.job("ds", "f1"));
    for (const char* kept : {"f0", "f2", "f3", "waiting"}) EXPECT_TRUE(v.job("ds", kept)) << kept;
  }
  // A status given with ids is a filter: a listed job of another status stays.
  d.jobs = std::vector<std::string>{"waiting", "f0"};
  d.filter.status = JobStatus::failed;
  EXPECT_EQ(h.ok<reply::Delete>(d).deleted, 1u);
  EXPECT_EQ(h.state("ds", "waiting").status, JobStatus::submitted);
  expect_view_is_fold(h);
  // Deleted: forgotten, so the id may be submitted anew.
  h.submit("ds", "leased", "c", "a new body");
}

TEST(Admin, RetryAndDeleteRefuseAnEmptyOrOverlongIdList) {
  Harness h;
  failed_and_others(h);
  std::vector<std::string> many(1001, "f0");
  for (auto ids : {std::vector<std::string>{}, many}) {
    cmd::Retry r{.datasource = "ds", .jobs = ids};
    EXPECT_EQ(h.fails(r).code, Code::bad_request);
    cmd::Delete d{.datasource = "ds", .jobs = ids};
    EXPECT_EQ(h.fails(d).code, Code::bad_request);
  }
  // An empty list must not widen into "every job": nothing changed.
  EXPECT_EQ(h.ok<reply::Count>(cmd::Count{"ds", JobStatus::failed, std::nullopt, ""}).count, 4u);
  // 1000 ids are within bounds (the same id 1000 times acts once).
  many.pop_back();
  EXPECT_EQ(h.ok<reply::Retry>(cmd::Retry{.datasource = "ds", .jobs = many}).retried, 1u);
}

TEST(Admin, StatsShowTheLogCountsAndTheOldestWaitingJob) {
  Harness h;
  h.datasource("ds");
  h.datasource("idle");
  auto first = h.submit_with("ds", "first", typed("b", 3));
  h.now += 10;
  h.submit_with("ds", "second", typed("a", 1));
  domain::ProcessFigures f;
  f.process.requests = 7;
  f.process.map_used = 4096;
  domain::View v(h.kv);
  auto out = domain::execute(v, cmd::Stats{}, domain::Context{h.now, nullptr, &f});
  ASSERT_TRUE(out.reply.ok());
  auto st = std::get<reply::Stats>(out.reply.value());
  EXPECT_EQ(st.requests, 7u);
  EXPECT_EQ(st.map_used, 4096u);
  EXPECT_EQ(st.log_entries, 4u);
  EXPECT_GT(st.log_bytes, 0u);
  ASSERT_EQ(st.datasources.size(), 2u);
  EXPECT_EQ(st.datasources[0].counts.submitted, 2u);
  EXPECT_EQ(st.datasources[0].oldest_pending, first.timestamp) << "the oldest, whatever its type or priority";
  EXPECT_EQ(st.datasources[1].oldest_pending, 0u);
}

TEST(Retention, FinishedJobsAreCollectedButStillAnswerResubmits) {
  Harness h;
  h.datasource("ds");
  auto first = h.submit("ds", "old", "c", "b");
  const Micros ended = h.update("ds", "old", JobStatus::complete).updated;
  h.submit("ds", "live", "c");
  domain::Retention r;
  r.job_age = 3'600'000 * kMs;
  h.now = ended + r.job_age;  // exactly the age: not yet older
  EXPECT_EQ(h.tick(r).stats.collected, 0u);
  h.now += 1;
  EXPECT_EQ(h.tick(r).stats.collected, 1u);
  EXPECT_EQ(h.fails(cmd::Status{"ds", "old", "c"}).code, Code::not_found);
  EXPECT_EQ(h.state("ds", "live").status, JobStatus::submitted) << "unfinished jobs stay";
  auto again = h.ok<reply::Submit>(cmd::Submit{"ds", "old", "c", body("b"), std::nullopt});
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.timestamp, first.timestamp);
  EXPECT_EQ(h.fails(cmd::Submit{"ds", "old", "c", body("other"), std::nullopt}).code, Code::conflict);
  EXPECT_EQ(h.fails(cmd::Submit{"ds", "old", "mallory", body("b"), std::nullopt}).code, Code::conflict);
}

TEST(Retention, LogTrimmedByAgeAndSizeTakesItsIndexEntriesAlong) {
  Harness h;
  h.datasource("ds");
  for (int i = 0; i < 50; ++i) {
    h.submit("ds", "j" + std::to_string(i), "c");
    h.now += 1000 * kMs;
  }
  domain::Retention by_age;
  by_age.log_age = 20'000 * kMs;
  auto t = h.tick(by_age, 1000);
  EXPECT_EQ(t.stats.trimmed, 31u);  // ds_create + the 30 submits older than 20 s
  auto through = h.kv.get(domain::Table::meta, "log_trimmed_through");
  ASSERT_TRUE(through) << "the store records that its history was cut";
  auto since = h.ok<reply::Since>(cmd::Since{"ds", 0, 1000u});
  ASSERT_EQ(since.requests.size(), 20u);
  EXPECT_EQ(since.requests.front().job, "j30");
  auto missed = h.ok<reply::Missed>(cmd::Missed{"c", 1, 1000u});
  EXPECT_EQ(missed.notices.front().seq, 31u);
  EXPECT_EQ(missed.last, 50u);

  domain::Retention by_size;
  domain::View v(h.kv);
  by_size.log_bytes = v.log_bytes() / 2;
  auto t2 = h.tick(by_size, 3);  // a bounded slice...
  EXPECT_EQ(t2.stats.trimmed, 3u);
  EXPECT_TRUE(t2.more);
  while (h.tick(by_size, 3).more) {}  // ...and the rest in later turns
  domain::View after(h.kv);
  EXPECT_LE(after.log_bytes() + after.notice_bytes(), by_size.log_bytes) << "the notices count too";
  EXPECT_EQ(after.log_entries(), h.kv.map(domain::Table::log).size());
  std::uint64_t stored = 0;
  for (const auto& [key, value] : h.kv.map(domain::Table::client_notices)) stored += value.size();
  EXPECT_EQ(after.notice_bytes(), stored) << "kept in step as notices are stored and trimmed";
  EXPECT_GT(stored, 0u);
}

TEST(Retention, AtMostTheCountOfFinishedJobsStayOldestFinishedFirst) {
  Harness h;
  h.datasource("a");
  h.datasource("b");
  for (int i = 0; i < 6; ++i) {
    const std::string ds = i % 2 ? "b" : "a", job = "j" + std::to_string(i);
    h.submit(ds, job, "c", "b");
    h.update(ds, job, JobStatus::complete);
    h.now += kMs;
  }
  h.submit("a", "live", "c");
  domain::Retention r;
  r.job_count = 4;
  auto t = h.tick(r, 1);  // a bounded slice
  EXPECT_EQ(t.stats.collected, 1u);
  EXPECT_TRUE(t.more);
  EXPECT_EQ(h.tick(r).stats.collected, 1u);
  EXPECT_EQ(h.tick(r).stats.collected, 0u) << "4 left: nothing more";
  EXPECT_EQ(h.fails(cmd::Status{"a", "j0", "c"}).code, Code::not_found) << "the first to finish leaves first";
  EXPECT_EQ(h.fails(cmd::Status{"b", "j1", "c"}).code, Code::not_found);
  for (int i = 2; i < 6; ++i)
    EXPECT_EQ(h.state(i % 2 ? "b" : "a", "j" + std::to_string(i)).status, JobStatus::complete) << i;
  EXPECT_EQ(h.state("a", "live").status, JobStatus::submitted) << "unfinished jobs do not count";
  EXPECT_TRUE(h.ok<reply::Submit>(cmd::Submit{"a", "j0", "c", body("b"), std::nullopt}).duplicate)
      << "a tombstone answers its id";
}

TEST(Retention, ATombstoneLastsAsLongAsTheLogHoldsItsSubmit) {
  Harness h;
  h.datasource("ds");
  h.submit("ds", "early", "c", "b");  // finished, collected, then its submit trimmed
  h.update("ds", "early", JobStatus::complete);
  h.now += 10'000 * kMs;
  h.submit("ds", "late", "c", "b");   // its submit trimmed before it is collected
  h.now += 10'000 * kMs;
  h.tick(domain::Retention{.job_age = 5'000 * kMs});
  ASSERT_TRUE(domain::View(h.kv).tombstone("ds", "early"));
  EXPECT_TRUE(h.ok<reply::Submit>(cmd::Submit{"ds", "early", "c", body("b"), std::nullopt}).duplicate);

  // Trim every entry older than 5 s: both submits go, and "early"'s tombstone with it.
  EXPECT_GT(h.tick(domain::Retention{.log_age = 5'000 * kMs}).stats.trimmed, 0u);
  EXPECT_FALSE(domain::View(h.kv).tombstone("ds", "early"));
  h.update("ds", "late", JobStatus::complete);
  h.now += 10'000 * kMs;
  EXPECT_EQ(h.tick(domain::Retention{.job_age = 5'000 * kMs}).stats.collected, 1u);
  EXPECT_FALSE(domain::View(h.kv).tombstone("ds", "late")) << "its submit is gone: no tombstone";
  EXPECT_TRUE(h.kv.map(domain::Table::tombstones).empty());
  // The ids are free again: new jobs.
  EXPECT_FALSE(h.ok<reply::Submit>(cmd::Submit{"ds", "early", "c", body("new"), std::nullopt}).duplicate);
  EXPECT_FALSE(h.ok<reply::Submit>(cmd::Submit{"ds", "late", "c", body("new"), std::nullopt}).duplicate);
}

// A Kv that counts what it is asked to read, to show that a question's cost
// does not grow with the backlog. Counting, not timing: deterministic.
class CountingKv final : public domain::Kv {
 public:
  explicit CountingKv(domain::Kv& inner) : in_(inner) {}
  std::size_t reads = 0;
  std::optional<std::string> get(domain::Table t, std::string_view k) override { ++reads; return in_.get(t, k); }
  void put(domain::Table t, std::string_view k, std::string_view v) override { in_.put(t, k, v); }
  void append(domain::Table t, std::string_view k, std::string_view v) override { in_.append(t, k, v); }
  bool erase(domain::Table t, std::string_view k) override { return in_.erase(t, k); }
  std::size_t erase_prefix(domain::Table t, std::string_view p) override { return in_.erase_prefix(t, p); }
  void scan(domain::Table t, std::string_view from, const domain::Visitor& f) override {
    in_.scan(t, from, [&](std::string_view k, std::string_view v) { ++reads; return f(k, v); });
  }
  std::optional<domain::Entry> last_before(domain::Table t, std::string_view b) override { ++reads; return in_.last_before(t, b); }

 private:
  domain::Kv& in_;
};

std::size_t reads_for(Harness& h, const Command& c) {
  CountingKv counting(h.kv);
  domain::View v(counting);
  auto out = domain::execute(v, c, domain::Context{h.now, &h.runtime});
  v.flush();
  EXPECT_TRUE(out.reply.ok());
  return counting.reads;
}

TEST(Cost, DequeueAckAndCountReadTheSameWithAHundredOrFiftyThousandWaiting) {
  std::vector<std::size_t> costs;
  for (int backlog : {100, 50'000}) {
    Harness h;
    h.datasource("ds");
    for (int i = 0; i < backlog; ++i) h.submit_with("ds", "j" + std::to_string(i), typed(i % 2 ? "a" : "b", 1 + i % 3));
    cmd::Dequeue d;
    d.datasource = "ds";
    d.worker = "w";
    d.limit = 5;
    const std::size_t dq = reads_for(h, d);
    auto held = h.dequeue("ds", 1);
    const std::size_t ack = reads_for(h, cmd::Ack{"ds", {cmd::AckItem{held[0].state.job, held[0].state.token, "success",
                                                                      std::nullopt, std::nullopt, std::nullopt, ""}}});
    const std::size_t cnt = reads_for(h, cmd::Count{"ds", JobStatus::submitted, std::nullopt, ""});
    h.now += 1;
    const std::size_t tick_reads = [&] {
      CountingKv counting(h.kv);
      domain::View v(counting);
      domain::tick(v, h.now, domain::Retention{.job_age = 1000 * kMs}, 100);
      v.flush();
      return counting.reads;
    }();
    costs.insert(costs.end(), {dq, ack, cnt, tick_reads});
  }
  EXPECT_EQ(costs[0], costs[4]) << "dequeue";
  EXPECT_EQ(costs[1], costs[5]) << "ack";
  EXPECT_EQ(costs[2], costs[6]) << "count";
  EXPECT_EQ(costs[3], costs[7]) << "timers";
}

TEST(Cost, ADequeueOfNamedTypesReadsTheSameWithTenOrFiveThousandOtherTypes) {
  std::vector<std::size_t> costs;
  for (int others : {10, 5'000}) {
    Harness h;
    h.datasource("ds");
    JobOptions later = typed("");
    later.run_after = h.now + 3'600'000 * kMs;  // idle types: nothing of them is due
    for (int i = 0; i < others; ++i) {
      later.type = "idle" + std::to_string(i);
      h.submit_with("ds", "idle" + std::to_string(i), later);
    }
    for (int i = 0; i < 20; ++i) h.submit_with("ds", "t" + std::to_string(i), typed(i % 2 ? "thumb" : "resize"));
    cmd::Dequeue d;
    d.datasource = "ds";
    d.worker = "w";
    d.limit = 5;
    d.types = std::vector<std::string>{"thumb", "resize"};
    costs.push_back(reads_for(h, d));
  }
  EXPECT_EQ(costs[0], costs[1]);
}

// A dequeue that names no types reads the line of all types: the same
// with 10 or 5,000 other types waiting, due or not, and it takes the best
// jobs of every type, in priority, eligibility and submit order.
TEST(Cost, ADequeueOfAnyTypeReadsTheSameWithTenOrFiveThousandTypesWaiting) {
  std::vector<std::size_t> costs;
  for (int others : {10, 5'000}) {
    Harness h;
    h.datasource("ds");
    JobOptions later = typed("");
    later.run_after = h.now + 3'600'000 * kMs;  // nothing of them is due
    for (int i = 0; i < others; ++i) {
      later.type = "idle" + std::to_string(i);
      h.submit_with("ds", "idle" + std::to_string(i), later);
    }
    for (int i = 0; i < 20; ++i) h.submit_with("ds", "t" + std::to_string(i), typed(i % 2 ? "thumb" : "resize", 2));
    h.submit_with("ds", "urgent", typed("rare", 1));
    h.submit_with("ds", "plain", typed("", 3));
    cmd::Dequeue d;
    d.datasource = "ds";
    d.worker = "w";
    d.limit = 5;
    auto got = h.ok<reply::Dequeue>(d);
    ASSERT_EQ(got.jobs.size(), 5u);
    EXPECT_EQ(got.jobs[0].state.job, "urgent");  // priority 1 first, whatever its type
    EXPECT_EQ(got.jobs[1].state.job, "t0");      // then submit order across types
    EXPECT_EQ(got.jobs[4].state.job, "t3");
    costs.push_back(reads_for(h, d));  // the next five
  }
  EXPECT_EQ(costs[0], costs[1]);
}

// The invariant again, now with every work-queue event in the mix.
TEST(Fold, WorkQueueEventsFoldToTheLiveView) {
  Harness h;
  std::mt19937 rng(2024);
  DsOptions res;
  res.resources = true;
  h.ok<reply::DsCreate>(cmd::DsCreate{"q", std::nullopt});
  h.ok<reply::DsCreate>(cmd::DsCreate{"r", res});
  for (int i = 0; i < 4000; ++i) {
    h.now += rng() % 100 * kMs;
    const std::string ds = rng() % 3 ? "q" : "r";
    const std::string job = "j" + std::to_string(rng() % 60);
    switch (rng() % 9) {
      case 0: case 1: {
        JobOptions o = typed(rng() % 2 ? "a" : "", 1 + rng() % 3);
        o.key = rng() % 2 ? "k" + std::to_string(rng() % 5) : "";
        if (!o.key.empty() && ds == "r" && rng() % 3 == 0) o.lifecycle = rng() % 2 ? "create" : "delete";
        o.attempts = 1 + rng() % 3;
        h.run(cmd::Submit{ds, job, "c" + std::to_string(rng() % 3), body(job), o});
        break;
      }
      case 2: case 3: {
        cmd::Dequeue d;
        d.datasource = ds;
        d.worker = "w" + std::to_string(rng() % 3);
        d.limit = 1 + rng() % 4;
        d.lease_ms = 5000u + rng() % 25000;
        h.run(d);
        break;
      }
      case 4: case 5: {
        domain::View v(h.kv);
        auto j = v.job(ds, job);
        if (!j) break;
        const char* outcomes[] = {"success", "failure", "cancelled"};
        h.run(cmd::Ack{ds, {cmd::AckItem{job, j->state.token, outcomes[rng() % 3], std::nullopt, std::string("e"),
                                         std::nullopt, "+"}}});
        break;
      }
      case 6: h.run(cmd::Cancel{ds, job, "c0"}); break;
      case 7: {
        domain::View v(h.kv);
        auto j = v.job(ds, job);
        if (!j) break;
        cmd::Checkpoint c{.datasource = ds, .job = job, .token = j->state.token};
        if (rng() % 2) {
          c.to_pending = true;
          c.run_after = h.now + rng() % 1000 * kMs;
        }
        h.run(c);
        break;
      }
      default:
        h.tick(domain::Retention{.job_age = 20'000 * kMs});
        if (rng() % 10 == 0) h.run(cmd::Retry{ds, 1u, std::nullopt, std::nullopt, 5u});
        if (rng() % 20 == 0) h.run(cmd::Delete{ds, cmd::JobFilter{.status = JobStatus::cancelled}, 3u});
    }
  }
  domain::MemKv rebuilt;
  auto n = domain::fold_log(h.kv, rebuilt);
  ASSERT_TRUE(n.ok()) << n.error().message;
  auto diff = domain::diff_views(h.kv, rebuilt);
  EXPECT_TRUE(diff.empty()) << diff.size() << " differences, first: " << diff.front();
  // And the mix exercised the whole lifecycle, not a corner of it.
  std::map<std::string, int> events;
  for (const auto& [k, v] : h.kv.map(domain::Table::log)) events[std::string(event_type_name(codec::decode_event(v)->type))]++;
  for (const char* t : {"submit", "lease", "ack", "expire", "checkpoint", "cancel", "gc", "retry"})
    EXPECT_GT(events[t], 10) << t << ": " << ::testing::PrintToString(events);
}

}  // namespace
}  // namespace ledgerq
