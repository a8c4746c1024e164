// The work-queue rules without sockets or disk: options, dequeue
// order, leases and fencing, acks and backoff, lease expiry, checkpoints,
// cancel of held jobs, keys and resources, backpressure.
#include <gtest/gtest.h>

#include "domain/verify.hpp"
#include "harness.hpp"

namespace ledgerq {
namespace {

using testing::body;
using testing::Harness;
constexpr Micros kMs = 1000;

JobOptions opts(std::uint8_t prio = 1, std::string type = "", std::string key = "") {
  JobOptions o;
  o.priority = prio;
  o.type = std::move(type);
  o.key = std::move(key);
  return o;
}

std::vector<std::string> ids(const std::vector<JobInfo>& jobs) {
  std::vector<std::string> out;
  for (const auto& j : jobs) out.push_back(j.state.job);
  return out;
}

TEST(Options, AreCheckedAtSubmit) {
  Harness h;
  h.datasource("ds");
  auto bad = [&](JobOptions o) { return h.fails(cmd::Submit{"ds", "j", "c", body("b"), o}); };
  EXPECT_EQ(bad(opts(0)).code, Code::bad_request);
  EXPECT_EQ(bad(opts(4)).code, Code::bad_request);
  JobOptions zero_attempts;
  zero_attempts.attempts = 0;
  EXPECT_EQ(bad(zero_attempts).code, Code::bad_request);
  JobOptions life = opts(1, "", "k");
  life.lifecycle = "create";
  auto e = bad(life);
  EXPECT_EQ(e.code, Code::bad_request);
  EXPECT_NE(e.message.find("resources"), std::string::npos) << e.message;
  life.key.clear();
  EXPECT_EQ(bad(life).code, Code::bad_request);
  auto s = h.submit_with("ds", "ok", JobOptions{});
  auto st = h.state("ds", "ok");
  EXPECT_EQ(st.priority, 1);
  EXPECT_EQ(st.attempts, 2u);
  EXPECT_EQ(st.attempts_made, 0u);
}

TEST(Dequeue, PriorityThenEligibilityThenSubmitOrder) {
  Harness h;
  h.datasource("ds");
  h.submit_with("ds", "low", opts(2));
  h.now += 1;
  JobOptions later = opts(1);
  later.run_after = h.now + 1000 * kMs;
  h.submit_with("ds", "later", later);
  h.now += 1;
  h.submit_with("ds", "first", opts(1));
  h.now += 1;
  h.submit_with("ds", "second", opts(1));
  EXPECT_EQ(ids(h.dequeue("ds", 10)), (std::vector<std::string>{"first", "second", "low"}));
  EXPECT_TRUE(h.dequeue("ds", 10).empty());
  h.now += 1000 * kMs;
  EXPECT_EQ(ids(h.dequeue("ds", 10)), (std::vector<std::string>{"later"}));
}

TEST(Dequeue, LeasesWithAFencingTokenAndTheWorkersName) {
  Harness h;
  h.datasource("ds");
  h.submit("ds", "j", "c");
  auto jobs = h.dequeue("ds", 1, std::nullopt, "thumbnailer:1234");
  ASSERT_EQ(jobs.size(), 1u);
  const auto& s = jobs[0].state;
  EXPECT_EQ(s.status, JobStatus::accepted);
  EXPECT_EQ(s.worker, "thumbnailer:1234");
  EXPECT_EQ(s.token, 1u);
  EXPECT_EQ(s.attempts_made, 1u);
  EXPECT_EQ(s.lease_until, h.now + 30'000 * kMs);
  EXPECT_EQ(jobs[0].request, body("body"));
}

TEST(Dequeue, TypesFilterAndDryRun) {
  Harness h;
  h.datasource("ds");
  h.submit_with("ds", "a1", opts(1, "a"));
  h.submit_with("ds", "b1", opts(1, "b"));
  h.submit_with("ds", "u1", opts(1));
  cmd::Dequeue dry;
  dry.datasource = "ds";
  dry.worker = "w";
  dry.limit = 10;
  dry.dry_run = true;
  EXPECT_EQ(h.ok<reply::Dequeue>(dry).jobs.size(), 3u);
  EXPECT_EQ(h.state("ds", "a1").status, JobStatus::submitted);  // a dry run leases nothing
  EXPECT_EQ(ids(h.dequeue("ds", 10, std::vector<std::string>{"b"})), (std::vector<std::string>{"b1"}));
  EXPECT_TRUE(h.dequeue("ds", 10, std::vector<std::string>{"c"}).empty());
  EXPECT_EQ(ids(h.dequeue("ds", 10)), (std::vector<std::string>{"a1", "u1"}));
}

TEST(Ack, SuccessCompletesAndStaleTokensAreRefused) {
  Harness h;
  h.datasource("ds");
  h.submit("ds", "j", "c");
  auto t = h.dequeue("ds")[0].state.token;
  auto stale = h.ack("ds", "j", t + 7, "success");
  EXPECT_EQ(stale.code, Code::conflict);
  EXPECT_NE(stale.message.find("stale"), std::string::npos);
  auto out = h.run(cmd::Ack{"ds", {cmd::AckItem{"j", t + 7, "success", std::nullopt, std::nullopt, std::nullopt, ""}}});
  EXPECT_EQ(out.warnings.size(), 1u) << "a stale token is logged";
  EXPECT_EQ(h.ack("ds", "j", t, "success").code, Code::ok);
  auto s = h.state("ds", "j");
  EXPECT_EQ(s.status, JobStatus::complete);
  EXPECT_EQ(s.response, body("done"));
  EXPECT_EQ(s.lease_until, 0u);
  EXPECT_EQ(h.ack("ds", "j", t, "success").code, Code::conflict) << "no second outcome";
  EXPECT_EQ(h.ack("ds", "j", t, "maybe").code, Code::bad_request);
}

TEST(Ack, FailureRetriesWithBackoffThenFails) {
  Harness h;
  h.datasource("ds");
  h.submit("ds", "j", "c");  // attempts: 2
  auto t1 = h.dequeue("ds")[0].state.token;
  ASSERT_EQ(h.ack("ds", "j", t1, "failure").code, Code::ok);
  auto s = h.state("ds", "j");
  EXPECT_EQ(s.status, JobStatus::retrying);
  EXPECT_EQ(s.error, "boom");
  EXPECT_GE(s.run_after, h.now + 500 * kMs);  // base 1 s, equal jitter: [0.5 s, 1 s]
  EXPECT_LE(s.run_after, h.now + 1000 * kMs);
  EXPECT_TRUE(h.dequeue("ds").empty()) << "not eligible before its run_after";
  h.now = s.run_after;
  auto again = h.dequeue("ds");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].state.token, t1 + 1);
  EXPECT_EQ(again[0].state.attempts_made, 2u);
  ASSERT_EQ(h.ack("ds", "j", t1 + 1, "failure").code, Code::ok);
  EXPECT_EQ(h.state("ds", "j").status, JobStatus::failed);
}

TEST(Ack, ExplicitRetryDelayWins) {
  Harness h;
  h.datasource("ds");
  h.submit("ds", "j", "c");
  auto t = h.dequeue("ds")[0].state.token;
  h.ack("ds", "j", t, "failure", 50);
  EXPECT_EQ(h.state("ds", "j").run_after, h.now + 50 * kMs);
}

TEST(Backoff, DoublesUpToTheCap) {
  Harness h;
  DsOptions o;
  o.retry_base_ms = 100;
  o.retry_cap_ms = 350;
  h.ok<reply::DsCreate>(cmd::DsCreate{"ds", o});
  JobOptions many;
  many.attempts = 10;
  h.submit_with("ds", "j", many);
  std::vector<Micros> delays;
  for (int i = 0; i < 4; ++i) {
    auto t = h.dequeue("ds")[0].state.token;
    h.ack("ds", "j", t, "failure");
    auto s = h.state("ds", "j");
    delays.push_back(s.run_after - h.now);
    h.now = s.run_after;
  }
  // Upper bounds 100, 200, 350 (cap), 350 ms; each at least half of its bound.
  const Micros bounds[] = {100 * kMs, 200 * kMs, 350 * kMs, 350 * kMs};
  for (int i = 0; i < 4; ++i) {
    EXPECT_LE(delays[i], bounds[i]) << i;
    EXPECT_GE(delays[i], bounds[i] / 2) << i;
  }
}

TEST(Lease, ExpiryResurrectsCountsTheAttemptAndFencesTheOldHolder) {
  Harness h;
  h.datasource("ds");
  h.submit("ds", "j", "c");
  auto first = h.dequeue("ds")[0].state;
  h.now = first.lease_until - 1;
  EXPECT_EQ(h.tick().stats.expired, 0u);
  h.now = first.lease_until;
  auto t = h.tick();
  EXPECT_EQ(t.stats.expired, 1u);
  auto s = h.state("ds", "j");
  EXPECT_EQ(s.status, JobStatus::retrying);
  EXPECT_NE(s.error.find("expired"), std::string::npos) << s.error;
  auto second = h.dequeue("ds", 1, std::nullopt, "w2")[0].state;
  EXPECT_EQ(second.token, first.token + 1);
  // The first worker wakes up and reports: refused, the second holds it.
  auto late = h.ack("ds", "j", first.token, "success");
  EXPECT_EQ(late.code, Code::conflict);
  EXPECT_NE(late.message.find("w2"), std::string::npos) << late.message;
  h.now = second.lease_until;
  h.tick();
  EXPECT_EQ(h.state("ds", "j").status, JobStatus::failed) << "no attempts left";
}

TEST(Cancel, PendingAtOnceHeldWhenTheHolderSaysOrTheLeaseEnds) {
  Harness h;
  h.datasource("ds");
  h.submit("ds", "pending", "c");
  EXPECT_EQ(h.ok<reply::Status>(cmd::Cancel{"ds", "pending", "c"}).status.status, JobStatus::cancelled);
  EXPECT_TRUE(h.dequeue("ds").empty());

  h.submit("ds", "a", "c");
  h.submit("ds", "b", "c");
  h.submit("ds", "x", "c");
  auto held = h.dequeue("ds", 3);
  ASSERT_EQ(held.size(), 3u);
  for (const char* j : {"a", "b", "x"}) {
    auto out = h.run(cmd::Cancel{"ds", j, "c"});
    auto s = std::get<reply::Status>(out.reply.value()).status;
    EXPECT_EQ(s.status, JobStatus::accepted);
    EXPECT_TRUE(s.cancel_requested);
    // The holder is told on its datasource's request topic.
    ASSERT_FALSE(out.notices.empty());
    EXPECT_EQ(std::get<RequestEntry>(out.notices[0]).type, "cancel");
  }
  h.ack("ds", "a", held[0].state.token, "cancelled");
  h.ack("ds", "b", held[1].state.token, "failure");  // attempts remain, but it was cancelled
  EXPECT_EQ(h.state("ds", "a").status, JobStatus::cancelled);
  EXPECT_EQ(h.state("ds", "b").status, JobStatus::cancelled);
  h.now = held[2].state.lease_until;
  h.tick();
  EXPECT_EQ(h.state("ds", "x").status, JobStatus::cancelled);
}

TEST(Checkpoint, HeartbeatBodyCustomStatusAndRelease) {
  Harness h;
  h.datasource("ds");
  h.submit("ds", "j", "c");
  auto s = h.dequeue("ds")[0].state;
  h.now += 20'000 * kMs;
  cmd::Checkpoint beat{.datasource = "ds", .job = "j", .token = s.token, .lease_ms = 60'000u,
                       .request = body("step 2"), .custom_status = std::string("half way")};
  auto after = h.ok<reply::Status>(beat).status;
  EXPECT_EQ(after.lease_until, h.now + 60'000 * kMs);
  EXPECT_EQ(after.custom_status, "half way");
  h.now = s.lease_until;  // the original deadline passes harmlessly
  EXPECT_EQ(h.tick().stats.expired, 0u);
  EXPECT_EQ(h.state("ds", "j").status, JobStatus::accepted);

  // Cron-like: release it to run again in an hour, with fresh attempts.
  cmd::Checkpoint release{.datasource = "ds", .job = "j", .token = s.token, .to_pending = true,
                          .run_after = h.now + 3'600'000 * kMs, .attempts = 5u};
  auto pending = h.ok<reply::Status>(release).status;
  EXPECT_EQ(pending.status, JobStatus::submitted);
  EXPECT_EQ(pending.attempts, 5u);
  EXPECT_EQ(pending.attempts_made, 0u);
  EXPECT_TRUE(h.dequeue("ds").empty());
  h.now += 3'600'000 * kMs;
  auto next = h.dequeue("ds");
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].request, body("step 2"));
  EXPECT_EQ(next[0].state.token, s.token + 1);
  // Stale tokens cannot checkpoint either.
  EXPECT_EQ(h.fails(cmd::Checkpoint{.datasource = "ds", .job = "j", .token = s.token}).code, Code::conflict);
  EXPECT_EQ(h.fails(cmd::Checkpoint{.datasource = "ds", .job = "j", .token = next[0].state.token,
                                    .run_after = 5u}).code, Code::bad_request);
}

TEST(Dequeue, PiggybackedAcksAndParking) {
  Harness h;
  h.datasource("ds");
  h.submit("ds", "a", "c");
  auto a = h.dequeue("ds")[0].state;
  JobOptions later;
  later.run_after = h.now + 5'000 * kMs;
  h.submit_with("ds", "b", later);
  cmd::Dequeue d;
  d.datasource = "ds";
  d.worker = "w1";
  d.wait_ms = 60'000u;
  d.acks = {cmd::AckItem{"a", a.token, "success", body("r"), std::nullopt, std::nullopt, ""}};
  auto out = h.run(d);
  ASSERT_TRUE(out.reply.ok());
  const auto& r = std::get<reply::Dequeue>(out.reply.value());
  ASSERT_EQ(r.acks.size(), 1u);
  EXPECT_EQ(r.acks[0].code, Code::ok);
  EXPECT_TRUE(r.jobs.empty());
  EXPECT_TRUE(out.park) << "nothing eligible and the worker may wait";
  EXPECT_EQ(out.wake_at, *later.run_after);
  EXPECT_EQ(h.state("ds", "a").status, JobStatus::complete);
}

TEST(Keys, OneJobPerKeyInFlightInSubmitOrderAcrossRetries) {
  Harness h;
  h.datasource("ds");
  h.submit_with("ds", "k1", opts(2, "", "user-7"));
  h.submit_with("ds", "k2", opts(1, "", "user-7"));  // higher priority, but behind k1 on its key
  h.submit_with("ds", "other", opts(3, "", "user-8"));
  EXPECT_EQ(ids(h.dequeue("ds", 10)), (std::vector<std::string>{"k1", "other"}));
  auto t = h.state("ds", "k1").token;
  h.ack("ds", "k1", t, "failure", 0);  // retrying: still the head of its key
  EXPECT_EQ(ids(h.dequeue("ds", 10)), (std::vector<std::string>{"k1"}));
  h.ack("ds", "k1", t + 1, "success");
  EXPECT_EQ(ids(h.dequeue("ds", 10)), (std::vector<std::string>{"k2"}));
}

TEST(Keys, CancelOfAWaitingJobLetsNothingJumpTheLine) {
  Harness h;
  h.datasource("ds");
  for (const char* j : {"k1", "k2", "k3"}) h.submit_with("ds", j, opts(1, "", "key"));
  h.ok<reply::Status>(cmd::Cancel{"ds", "k2", "c"});
  auto first = h.dequeue("ds", 10);
  EXPECT_EQ(ids(first), (std::vector<std::string>{"k1"}));
  h.ack("ds", "k1", first[0].state.token, "success");
  EXPECT_EQ(ids(h.dequeue("ds", 10)), (std::vector<std::string>{"k3"}));
}

// Found in review: a retried keyed job went ahead of the job in flight, and
// the next job to leave the line let it run beside that one.
TEST(Keys, ARetriedJobWaitsForTheOneInFlight) {
  Harness h;
  h.datasource("q");
  JobOptions once = opts(1, "", "k");
  once.attempts = 1;
  h.submit_with("q", "A", once);
  h.ack("q", "A", h.dequeue("q")[0].state.token, "failure");
  h.now += kMs;
  h.submit_with("q", "C", opts(1, "", "k"));
  h.submit_with("q", "D", opts(1, "", "k"));
  auto c = h.dequeue("q", 1, std::nullopt, "w1");
  ASSERT_EQ(ids(c), (std::vector<std::string>{"C"}));
  EXPECT_EQ(h.ok<reply::Retry>(cmd::Retry{"q", std::nullopt, std::nullopt, std::nullopt, std::nullopt}).retried, 1u);
  EXPECT_TRUE(h.dequeue("q", 10, std::nullopt, "w2").empty());
  h.ok<reply::Status>(cmd::Cancel{"q", "D", "c"});
  EXPECT_TRUE(h.dequeue("q", 10, std::nullopt, "w2").empty()) << "C is still held: nothing else of k may run";
  h.ack("q", "C", c[0].state.token, "success");
  EXPECT_EQ(ids(h.dequeue("q", 10, std::nullopt, "w2")), (std::vector<std::string>{"A"}));
}

TEST(Submit, ANilBodyFoldsLikeAnyOther) {
  Harness h;
  h.datasource("q");
  h.ok<reply::Submit>(cmd::Submit{"q", "nil", "c", Any{std::string(1, '\xc0')}, std::nullopt});
  auto latest = h.ok<reply::Latest>(cmd::Latest{"q"}).request;
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->request, Any{std::string(1, '\xc0')});
  domain::MemKv rebuilt;
  auto n = domain::fold_log(h.kv, rebuilt);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_TRUE(domain::diff_views(h.kv, rebuilt).empty());
}

TEST(Resources, JobsForKeysThatWillNotExistAreRejectedAtOnce) {
  Harness h;
  DsOptions o;
  o.resources = true;
  h.ok<reply::DsCreate>(cmd::DsCreate{"inst", o});
  auto with = [&](std::string job, std::string life) {
    JobOptions j = opts(1, "", "vm-1");
    j.lifecycle = std::move(life);
    return h.run(cmd::Submit{"inst", job, "c", body(job), j});
  };
  auto unknown = with("upgrade-0", "");
  ASSERT_FALSE(unknown.reply.ok());
  EXPECT_EQ(unknown.reply.error().code, Code::not_found);
  ASSERT_TRUE(with("create", "create").reply.ok());
  ASSERT_TRUE(with("upgrade", "").reply.ok()) << "queued behind a create: it will exist";
  ASSERT_TRUE(with("delete", "delete").reply.ok());
  auto behind_delete = with("upgrade-2", "");
  ASSERT_FALSE(behind_delete.reply.ok());
  EXPECT_EQ(behind_delete.reply.error().code, Code::not_found);
  ASSERT_TRUE(with("recreate", "create").reply.ok());
  ASSERT_TRUE(with("upgrade-3", "").reply.ok());

  // The create fails for good: the upgrade behind it cannot run.
  auto first = h.dequeue("inst");
  ASSERT_EQ(ids(first), (std::vector<std::string>{"create"}));
  h.ack("inst", "create", first[0].state.token, "failure", 0u);
  auto second = h.dequeue("inst");
  ASSERT_EQ(ids(second), (std::vector<std::string>{"create"}));
  h.ack("inst", "create", second[0].state.token, "failure");
  auto up = h.state("inst", "upgrade");
  EXPECT_EQ(up.status, JobStatus::failed);
  EXPECT_NE(up.error.find("does not exist"), std::string::npos);
  // ...and so does the delete; the recreate then runs.
  EXPECT_EQ(h.state("inst", "delete").status, JobStatus::failed);
  EXPECT_EQ(ids(h.dequeue("inst")), (std::vector<std::string>{"recreate"}));
}

TEST(Backpressure, MaxPendingAndDequeueRate) {
  Harness h;
  DsOptions o;
  o.max_pending = 2;
  o.dequeue_rate = 2;
  h.ok<reply::DsCreate>(cmd::DsCreate{"ds", o});
  h.submit("ds", "a", "c");
  h.submit("ds", "b", "c");
  EXPECT_EQ(h.fails(cmd::Submit{"ds", "c", "c", body("x"), std::nullopt}).code, Code::queue_full);
  EXPECT_EQ(h.dequeue("ds", 10).size(), 2u);  // the bucket starts full: 2 tokens
  h.submit("ds", "c", "c");                   // leased jobs no longer count as pending
  cmd::Dequeue d;
  d.datasource = "ds";
  d.worker = "w";
  auto e = h.fails(d);
  EXPECT_EQ(e.code, Code::rate_limited);
  h.now += 500 * kMs;  // half a second: one token
  EXPECT_EQ(h.dequeue("ds", 10).size(), 1u);
}

TEST(Batch, EachJobHasItsOwnResult) {
  Harness h;
  h.datasource("ds");
  h.submit("ds", "dup", "c", "same");
  cmd::SubmitBatch b{"ds", "c", {}};
  b.jobs.push_back({"new", body("x"), std::nullopt});
  b.jobs.push_back({"dup", body("same"), std::nullopt});
  b.jobs.push_back({"dup", body("other"), std::nullopt});
  b.jobs.push_back({"bad", body("x"), opts(9)});
  auto r = h.ok<reply::SubmitBatch>(b).results;
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].code, Code::ok);
  EXPECT_FALSE(r[0].duplicate);
  EXPECT_EQ(r[1].code, Code::ok);
  EXPECT_TRUE(r[1].duplicate);
  EXPECT_EQ(r[2].code, Code::conflict);
  EXPECT_EQ(r[3].code, Code::bad_request);
  EXPECT_EQ(h.fails(cmd::SubmitBatch{"ds", "c", {}}).code, Code::bad_request);
}

// A transaction that is aborted (a full map, a storage failure) and applied
// again must find nothing of its first attempt in memory either: a dequeue
// remembered for repeats, or rate tokens spent, for leases never stored.
TEST(Dequeue, AnAbortedTurnLeavesNothingInTheRuntime) {
  Harness h;
  DsOptions limited;
  limited.dequeue_rate = 3;
  h.ok<reply::DsCreate>(cmd::DsCreate{"ds", limited});
  for (const char* j : {"j1", "j2", "j3"}) h.submit("ds", j, "c");
  cmd::Dequeue d{.datasource = "ds", .worker = "w:1", .limit = 3, .dequeue_id = "d-1"};
  {
    domain::MemKv scratch = h.kv;  // the attempt whose transaction is aborted
    domain::View v(scratch);
    h.runtime.begin();
    auto out = domain::execute(v, d, domain::Context{h.now, &h.runtime});
    ASSERT_TRUE(out.reply.ok());
    ASSERT_EQ(std::get<reply::Dequeue>(out.reply.value()).jobs.size(), 3u);
    h.runtime.undo();
  }
  // Applied again: it leases the three jobs for real (not a phantom repeat
  // with nothing stored), and the rate limit let it (its tokens came back).
  h.runtime.begin();
  auto jobs = h.ok<reply::Dequeue>(d).jobs;
  ASSERT_EQ(jobs.size(), 3u);
  for (const auto& j : jobs) EXPECT_EQ(h.state("ds", j.state.job).status, JobStatus::accepted);
}

}  // namespace
}  // namespace ledgerq

namespace ledgerq {
namespace {

TEST(Dequeue, AWaitingDequeueTakesAtMostTheDatasourcesLease) {
  Harness h;
  h.ok<reply::DsCreate>(cmd::DsCreate{"ds", DsOptions{.lease_ms = 20'000}});
  h.submit("ds", "j1", "c");
  h.submit("ds", "j2", "c");
  cmd::Dequeue parked{.datasource = "ds", .worker = "w", .lease_ms = 3'600'000, .wait_ms = 60'000};
  auto a = h.ok<reply::Dequeue>(parked).jobs;
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].state.lease_until, h.now + 20'000 * kMs) << "capped by the datasource's lease";
  cmd::Dequeue at_once{.datasource = "ds", .worker = "w", .lease_ms = 3'600'000};
  auto b = h.ok<reply::Dequeue>(at_once).jobs;
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].state.lease_until, h.now + 3'600'000 * kMs) << "a dequeue that does not wait asks what it wants";
}

TEST(Retry, GrantedAttemptsSaturateInsteadOfWrapping) {
  Harness h;
  h.ok<reply::DsCreate>(cmd::DsCreate{"ds"});
  JobOptions one;
  one.attempts = 1;
  h.submit_with("ds", "j", one);
  auto got = h.dequeue("ds");
  ASSERT_EQ(got.size(), 1u);
  h.ack("ds", "j", got[0].state.token, "failure");
  ASSERT_EQ(h.state("ds", "j").status, JobStatus::failed);
  EXPECT_EQ(h.ok<reply::Retry>(cmd::Retry{.datasource = "ds", .attempts = UINT32_MAX}).retried, 1u);
  const auto s = h.state("ds", "j");
  EXPECT_EQ(s.attempts, UINT32_MAX) << "1 made + 2^32-1 granted saturates";
  EXPECT_EQ(s.status, JobStatus::retrying);
}

}  // namespace
}  // namespace ledgerq

namespace ledgerq {
namespace {

// A msgpack str of n bytes (str32): a big body.
Any big_body(std::size_t n, char fill) {
  std::string m = "\xdb";
  for (int shift = 24; shift >= 0; shift -= 8) m.push_back(static_cast<char>((n >> shift) & 0xff));
  m.append(n, fill);
  return Any{m};
}

// Every reply fits the frame limit (codec::Limits::reply_items): a dequeue
// leases fewer jobs than asked, the others say more / continue.
TEST(ReplyBudget, EveryListStopsAtTheBudgetAndContinuesWhereItStopped) {
  Harness h;
  h.ok<reply::DsCreate>(cmd::DsCreate{"ds"});
  const std::size_t n = 600'000;  // two of them are over 1 MiB
  for (char c : {'a', 'b', 'c'})
    h.ok<reply::Submit>(cmd::Submit{"ds", std::string("j") + c, "cl", big_body(n, c)});

  // since: one entry a page, in order, none lost.
  std::vector<std::string> seen;
  Micros from = 0;
  for (bool more = true; more;) {
    auto r = h.ok<reply::Since>(cmd::Since{"ds", from, 1000});
    ASSERT_LE(r.requests.size(), 1u);
    for (auto& e : r.requests) seen.push_back(e.job);
    more = r.more;
    from = r.next;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"ja", "jb", "jc"}));

  // lookup with bodies: the first, and more.
  auto l = h.ok<reply::Lookup>(cmd::Lookup{"ds", {"ja", "jb", "jc"}, true});
  ASSERT_EQ(l.jobs.size(), 1u);
  EXPECT_TRUE(l.more);
  EXPECT_FALSE(h.ok<reply::Lookup>(cmd::Lookup{"ds", {"ja", "jb", "jc"}, false}).more) << "without bodies all fit";

  // dequeue(3): one job leased, the other two stay in the queue.
  auto got = h.ok<reply::Dequeue>(cmd::Dequeue{.datasource = "ds", .worker = "w", .limit = 3}).jobs;
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(h.state("ds", "jb", "cl").status, JobStatus::submitted) << "no lease the reply could not carry";
  EXPECT_EQ(h.state("ds", "jc", "cl").status, JobStatus::submitted);

  // Complete all three with big responses: scan pages through them.
  for (const char* j : {"ja", "jb", "jc"})
    h.ok<reply::Status>(cmd::Update{"ds", j, JobStatus::complete, big_body(n, 'r'), std::nullopt});
  seen.clear();
  std::string cont;
  do {
    auto s = h.ok<reply::Scan>(cmd::Scan{"ds", cmd::JobFilter{.status = JobStatus::complete}, 1000, cont});
    ASSERT_LE(s.jobs.size(), 1u);
    for (auto& j : s.jobs) seen.push_back(j.state.job);
    cont = s.continuation;
  } while (!cont.empty());
  EXPECT_EQ(seen, (std::vector<std::string>{"ja", "jb", "jc"})) << "a cut page continues with the job it left out";

  // missed: the client's notices (3 submits, 1 lease, 3 completions) page too.
  std::size_t notices = 0;
  std::uint64_t seq = 1;
  for (bool more = true; more;) {
    auto m = h.ok<reply::Missed>(cmd::Missed{"cl", seq, 1000});
    notices += m.notices.size();
    more = m.more;
    seq = m.next;
  }
  EXPECT_EQ(notices, 7u);
}

}  // namespace
}  // namespace ledgerq

namespace ledgerq {
namespace {

TEST(ReplyBudget, AJobWithABigBodyAndABigResponseIsReadAndLookedUpWithoutItsBody) {
  Harness h;
  h.ok<reply::DsCreate>(cmd::DsCreate{"ds"});
  h.ok<reply::Submit>(cmd::Submit{"ds", "j", "cl", big_body(1'000'000, 'q')});
  h.ok<reply::Status>(cmd::Update{"ds", "j", JobStatus::complete, big_body(1'000'000, 'r'), std::nullopt});
  // Its record holds 2 MB: reading it back must not take it for corruption.
  auto l = h.ok<reply::Lookup>(cmd::Lookup{"ds", {"j"}, true});
  ASSERT_EQ(l.jobs.size(), 1u);
  EXPECT_FALSE(l.jobs[0].request) << "body and response would not fit one frame";
  EXPECT_TRUE(l.jobs[0].state.response);
  EXPECT_LE(codec::encode_reply(Reply{1, Code::ok, {}, l}).size(), codec::Limits::max_message);
}

}  // namespace
}  // namespace ledgerq

namespace ledgerq {
namespace {

// A worker that timed out sends its dequeue again with the same
// dequeue_id: it gets the leases of the first one, and nothing new.
TEST(Dequeue, ARepeatWithTheSameDequeueIdReturnsTheSameLeases) {
  Harness h;
  h.ok<reply::DsCreate>(cmd::DsCreate{"ds"});
  for (const char* j : {"j1", "j2", "j3", "j4"}) h.submit("ds", j, "c");
  cmd::Dequeue d{.datasource = "ds", .worker = "w:1", .limit = 2, .dequeue_id = "d-1"};
  auto first = h.ok<reply::Dequeue>(d).jobs;
  ASSERT_EQ(first.size(), 2u);
  h.now += 1000;
  auto again = h.ok<reply::Dequeue>(d).jobs;
  EXPECT_EQ(again, first) << "the same jobs, tokens and leases";
  EXPECT_EQ(h.state("ds", "j3").status, JobStatus::submitted) << "nothing new was leased";
  // Once one is acked, a repeat carries only what is still held.
  EXPECT_EQ(h.ack("ds", "j1", first[0].state.token, "success").code, Code::ok);
  auto later = h.ok<reply::Dequeue>(d).jobs;
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].state.job, "j2");
  // Another id, or another worker with the same id, is a new dequeue.
  d.dequeue_id = "d-2";
  EXPECT_EQ(ids(h.ok<reply::Dequeue>(d).jobs), (std::vector<std::string>{"j3", "j4"}));
  cmd::Dequeue other{.datasource = "ds", .worker = "w:2", .dequeue_id = "d-1"};
  EXPECT_TRUE(h.ok<reply::Dequeue>(other).jobs.empty()) << "w:2's d-1 is not w:1's";
}

}  // namespace
}  // namespace ledgerq
