// The domain rules without sockets or disk: MemKv and an injected clock.
#include <gtest/gtest.h>

#include <random>

#include "domain/verify.hpp"
#include "harness.hpp"

namespace ledgerq {
namespace {

using testing::body;
using testing::Harness;

TEST(Datasources, CreateIsIdempotentDeleteAndList) {
  Harness h;
  EXPECT_TRUE(h.ok<reply::DsCreate>(cmd::DsCreate{"a"}).created);
  EXPECT_FALSE(h.ok<reply::DsCreate>(cmd::DsCreate{"a"}).created);
  h.datasource("b");
  auto list = h.ok<reply::DsList>(cmd::DsList{}).datasources;
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].datasource, "a");
  EXPECT_EQ(list[1].datasource, "b");
  EXPECT_TRUE(h.ok<reply::DsDelete>(cmd::DsDelete{"a"}).deleted);
  EXPECT_FALSE(h.ok<reply::DsDelete>(cmd::DsDelete{"a"}).deleted);
  EXPECT_EQ(h.ok<reply::DsList>(cmd::DsList{}).datasources.size(), 1u);
}

TEST(Datasources, DeleteDropsJobsAndARecreatedOneStartsAfresh) {
  Harness h;
  h.datasource("ds");
  h.submit("ds", "j", "c");
  h.ok<reply::DsDelete>(cmd::DsDelete{"ds"});
  EXPECT_EQ(h.fails(cmd::Status{"ds", "j", "c"}).code, Code::not_found);
  h.datasource("ds");  // small: gone in the turn that deleted it, the name free at once
  EXPECT_EQ(h.fails(cmd::Status{"ds", "j", "c"}).code, Code::not_found);
  auto s = h.ok<reply::Since>(cmd::Since{"ds", 0, std::nullopt});
  EXPECT_TRUE(s.requests.empty());
  h.submit("ds", "j", "c", "other body");  // the old job is gone: no conflict
  EXPECT_EQ(h.ok<reply::Latest>(cmd::Latest{"ds"}).request->seq, 1u);
}

TEST(Datasources, DeleteRemovesTheJobsInBoundedSlicesThatFoldExactly) {
  constexpr Micros kMs = 1000;
  Harness h;
  DsOptions res;
  res.resources = true;
  h.ok<reply::DsCreate>(cmd::DsCreate{"big", res});
  h.datasource("other");
  h.submit("other", "kept", "c");
  for (int i = 0; i < 2500; ++i) {
    JobOptions o;
    if (i % 5 == 0) o.key = "k" + std::to_string(i % 50);
    if (i % 5 == 0 && i < 50) o.lifecycle = "create";  // each key's first job creates its resource
    h.submit_with("big", "j" + std::to_string(i), o);
  }
  for (int i = 0; i < 300; ++i) h.update("big", "j" + std::to_string(2000 + i), JobStatus::complete);
  h.now += 10'000 * kMs;
  h.tick(domain::Retention{.job_age = 1'000 * kMs});  // 300 collected: tombstones
  const auto leased = h.dequeue("big", 20);             // leases that run out while it goes
  ASSERT_EQ(leased.size(), 20u);
  auto left = [&] {
    std::size_t n = 0;
    for (std::size_t t = 0; t < domain::kTableCount; ++t)
      for (const auto& [k, v] : h.kv.map(static_cast<domain::Table>(t)))
        if (k.find("big") != std::string::npos && static_cast<domain::Table>(t) != domain::Table::log) ++n;
    return n;
  };
  ASSERT_GT(left(), 10'000u);

  EXPECT_TRUE(h.ok<reply::DsDelete>(cmd::DsDelete{"big"}).deleted);
  // Gone for every command at once, though its jobs are still stored.
  EXPECT_EQ(h.fails(cmd::Status{"big", "j1", "c"}).code, Code::not_found);
  EXPECT_EQ(h.fails(cmd::Submit{"big", "new", "c", body("b")}).code, Code::not_found);
  EXPECT_EQ(h.ok<reply::DsList>(cmd::DsList{}).datasources.size(), 1u);
  EXPECT_EQ(h.ok<reply::Stats>(cmd::Stats{}).datasources.size(), 1u);
  EXPECT_FALSE(h.ok<reply::DsDelete>(cmd::DsDelete{"big"}).deleted) << "deleted already";
  EXPECT_EQ(h.fails(cmd::DsCreate{"big"}).code, Code::conflict);

  // Slices of at most 1,000 jobs a tick; the leases run out meanwhile.
  h.now += 3'600'000 * kMs;
  int ticks = 0;
  std::size_t before = left();
  for (bool more = true; more; ++ticks) {
    more = h.tick(domain::Retention{}, 1000).more;
    const std::size_t now_left = left();
    EXPECT_LT(now_left, before);
    EXPECT_LE(before - now_left, 1000u * 10) << "a slice erases at most ~10 entries a job";
    before = now_left;
    ASSERT_LT(ticks, 10);
  }
  EXPECT_GE(ticks, 3);
  EXPECT_EQ(left(), 0u) << "nothing of it is left in any table";
  EXPECT_EQ(h.state("other", "kept").status, JobStatus::submitted);

  // The name is free again: a new datasource, whose ids are new.
  EXPECT_TRUE(h.ok<reply::DsCreate>(cmd::DsCreate{"big"}).created);
  EXPECT_FALSE(h.ok<reply::Submit>(cmd::Submit{"big", "j2000", "c", body("new")}).duplicate);

  domain::MemKv rebuilt;
  auto n = domain::fold_log(h.kv, rebuilt);
  ASSERT_TRUE(n.ok()) << n.error().message;
  auto diff = domain::diff_views(h.kv, rebuilt);
  EXPECT_TRUE(diff.empty()) << diff.size() << " differences, first: " << diff.front();
}

// A version-4 log's ds_delete (no `limit`, no purge after it) removed the
// datasource at once: folding such a log still does.
TEST(Datasources, AVersion4DeleteFoldsAsAWholeRemoval) {
  Harness h;
  h.datasource("ds");
  h.submit("ds", "j", "c", "old body");
  {
    domain::View v(h.kv);
    domain::record(v, Event{.type = EventType::ds_delete, .datasource = "ds"}, ++h.now);
    v.flush();
  }
  EXPECT_FALSE(domain::View(h.kv).any_datasource("ds")) << "gone, no purge needed";
  h.datasource("ds");
  h.submit("ds", "j", "c", "new body");  // a new job, no conflict with the old one
  domain::MemKv rebuilt;
  auto n = domain::fold_log(h.kv, rebuilt);
  ASSERT_TRUE(n.ok()) << n.error().message;
  auto diff = domain::diff_views(h.kv, rebuilt);
  EXPECT_TRUE(diff.empty()) << diff.front();
}

TEST(Submit, NeedsADatasource) {
  Harness h;
  auto e = h.fails(cmd::Submit{"nope", "j", "c", body("x")});
  EXPECT_EQ(e.code, Code::not_found);
  EXPECT_NE(e.message.find("nope"), std::string::npos);
}

TEST(Submit, ReturnsTimestampAndAnnouncesToDriverAndClient) {
  Harness h;
  h.datasource("ds");
  h.now += 1000;
  auto out = h.run(cmd::Submit{"ds", "j1", "c1", body("hello")});
  ASSERT_TRUE(out.reply.ok());
  auto r = std::get<reply::Submit>(out.reply.value());
  EXPECT_EQ(r.job, "j1");
  EXPECT_EQ(r.client, "c1");
  EXPECT_EQ(r.timestamp, h.now);
  EXPECT_FALSE(r.duplicate);
  ASSERT_EQ(out.notices.size(), 2u);
  auto req = std::get<RequestEntry>(out.notices[0]);
  EXPECT_EQ(req.type, "request");
  EXPECT_EQ(req.seq, 1u);
  EXPECT_EQ(req.request, body("hello"));
  EXPECT_EQ(req.timestamp, r.timestamp);
  auto st = std::get<StatusNotice>(out.notices[1]);
  EXPECT_EQ(st.data.status, JobStatus::submitted);
  EXPECT_EQ(st.seq, 1u);
  EXPECT_EQ(st.data.submitted, r.timestamp);
}

TEST(Submit, SameJobAgainIsTheOriginalForEver) {
  Harness h;
  h.datasource("ds");
  auto first = h.submit("ds", "j", "c", "b");
  h.update("ds", "j", JobStatus::complete);
  h.now += 3'600'000'000;  // an hour later, and after completion
  const std::size_t log = h.log_size();
  auto again = h.run(cmd::Submit{"ds", "j", "c", body("b")});
  ASSERT_TRUE(again.reply.ok());
  auto r = std::get<reply::Submit>(again.reply.value());
  EXPECT_TRUE(r.duplicate);
  EXPECT_EQ(r.timestamp, first.timestamp);
  EXPECT_TRUE(again.notices.empty());
  EXPECT_EQ(h.log_size(), log);
}

TEST(Submit, SameJobWithOtherBodyOrClientConflicts) {
  Harness h;
  h.datasource("ds");
  h.submit("ds", "j", "c", "b");
  EXPECT_EQ(h.fails(cmd::Submit{"ds", "j", "c", body("other")}).code, Code::conflict);
  EXPECT_EQ(h.fails(cmd::Submit{"ds", "j", "c2", body("b")}).code, Code::conflict);
  // The same id in another datasource is another job.
  h.datasource("ds2");
  h.submit("ds2", "j", "c2", "other");
}

TEST(Cancel, UnknownForbiddenAndTerminal) {
  Harness h;
  h.datasource("ds");
  EXPECT_EQ(h.fails(cmd::Cancel{"ds", "j", "c"}).code, Code::not_found);
  EXPECT_EQ(h.fails(cmd::Cancel{"nods", "j", "c"}).code, Code::not_found);
  h.submit("ds", "j", "c");
  EXPECT_EQ(h.fails(cmd::Cancel{"ds", "j", "intruder"}).code, Code::forbidden);
  h.update("ds", "j", JobStatus::complete);
  const std::size_t log = h.log_size();
  auto out = h.run(cmd::Cancel{"ds", "j", "c"});
  ASSERT_TRUE(out.reply.ok());
  EXPECT_EQ(std::get<reply::Status>(out.reply.value()).status.status, JobStatus::complete);
  EXPECT_TRUE(out.notices.empty());
  EXPECT_EQ(h.log_size(), log);
}

TEST(Cancel, OfALiveJobIsARequestTheDriverDecides) {
  Harness h;
  h.datasource("ds");
  h.submit("ds", "j", "c");
  h.update("ds", "j", JobStatus::accepted);
  h.now += 10;
  auto out = h.run(cmd::Cancel{"ds", "j", "c"});
  ASSERT_TRUE(out.reply.ok());
  auto s = std::get<reply::Status>(out.reply.value()).status;
  EXPECT_EQ(s.status, JobStatus::accepted);  // last known status
  EXPECT_TRUE(s.cancel_requested);
  ASSERT_EQ(out.notices.size(), 2u);
  auto req = std::get<RequestEntry>(out.notices[0]);
  EXPECT_EQ(req.type, "cancel");
  EXPECT_EQ(req.seq, 2u);
  EXPECT_FALSE(req.request.has_value());
  EXPECT_EQ(std::get<StatusNotice>(out.notices[1]).seq, 3u);
  EXPECT_EQ(h.update("ds", "j", JobStatus::cancelled).status, JobStatus::cancelled);
}

TEST(Status, NotFoundForbiddenAndTheRecord) {
  Harness h;
  h.datasource("ds");
  EXPECT_EQ(h.fails(cmd::Status{"ds", "j", "c"}).code, Code::not_found);
  auto sub = h.submit("ds", "j", "c");
  EXPECT_EQ(h.fails(cmd::Status{"ds", "j", "other"}).code, Code::forbidden);
  h.now = sub.timestamp + 5;
  auto resp = body("done");
  h.ok<reply::Status>(cmd::Update{"ds", "j", JobStatus::complete, resp, std::string("fine")});
  auto s = h.ok<reply::Status>(cmd::Status{"ds", "j", "c"}).status;
  EXPECT_EQ(s.job, "j");
  EXPECT_EQ(s.client, "c");
  EXPECT_EQ(s.status, JobStatus::complete);
  EXPECT_EQ(s.response, resp);
  EXPECT_EQ(s.error, "fine");
  EXPECT_EQ(s.submitted, sub.timestamp);
  EXPECT_EQ(s.updated, sub.timestamp + 5);
}

TEST(Update, UnknownJobAndRepeatAfterTheEnd) {
  Harness h;
  h.datasource("ds");
  EXPECT_EQ(h.fails(cmd::Update{"ds", "j", JobStatus::accepted, std::nullopt, std::nullopt}).code,
            Code::not_found);
  h.submit("ds", "j", "c");
  h.ok<reply::Status>(cmd::Update{"ds", "j", JobStatus::failed, std::nullopt, std::string("boom")});
  // A driver retrying its lost update is answered, not refused.
  h.ok<reply::Status>(cmd::Update{"ds", "j", JobStatus::failed, std::nullopt, std::string("boom")});
  EXPECT_EQ(h.fails(cmd::Update{"ds", "j", JobStatus::failed, std::nullopt, std::string("other")}).code,
            Code::conflict);
}

TEST(Clock, LogTimestampsStrictlyIncreaseWhenTheClockStepsBack) {
  Harness h;
  h.datasource("ds");
  auto a = h.submit("ds", "a", "c");
  h.now -= 1'000'000;  // wall clock stepped back a second
  auto b = h.submit("ds", "b", "c");
  auto c = h.submit("ds", "c", "c");
  EXPECT_EQ(b.timestamp, a.timestamp + 1);
  EXPECT_EQ(c.timestamp, a.timestamp + 2);
}

TEST(Since, InclusivePagesWithExactContinuation) {
  Harness h;
  h.datasource("ds");
  h.datasource("other");
  std::vector<Micros> ts;
  for (int i = 0; i < 7; ++i) {
    ts.push_back(h.submit("ds", "j" + std::to_string(i), "c").timestamp);
    h.submit("other", "x" + std::to_string(i), "c");  // interleaved, never returned
    h.now += 1;
  }
  h.ok<reply::Status>(cmd::Cancel{"ds", "j0", "c"});
  auto all = h.ok<reply::Since>(cmd::Since{"ds", 0, std::nullopt});
  ASSERT_EQ(all.requests.size(), 8u);
  EXPECT_FALSE(all.more);
  EXPECT_EQ(all.requests.back().type, "cancel");
  for (std::size_t i = 0; i < all.requests.size(); ++i) EXPECT_EQ(all.requests[i].seq, i + 1);

  // Inclusive: starting at a request's own timestamp returns it.
  auto from3 = h.ok<reply::Since>(cmd::Since{"ds", ts[3], std::nullopt});
  EXPECT_EQ(from3.requests.front().job, "j3");

  // Pages of 3 visit every entry once, in order.
  std::vector<std::string> seen;
  Micros next = 0;
  for (;;) {
    auto page = h.ok<reply::Since>(cmd::Since{"ds", next, 3u});
    for (auto& r : page.requests) seen.push_back(r.job + "/" + r.type);
    next = page.next;
    if (!page.more) break;
  }
  ASSERT_EQ(seen.size(), 8u);
  EXPECT_EQ(seen[0], "j0/request");
  EXPECT_EQ(seen[7], "j0/cancel");
  EXPECT_TRUE(h.ok<reply::Since>(cmd::Since{"ds", next, 3u}).requests.empty());
}

TEST(Since, LimitIsClampedAndLatestIsTheLastRequest) {
  Harness h;
  h.datasource("ds");
  EXPECT_FALSE(h.ok<reply::Latest>(cmd::Latest{"ds"}).request.has_value());
  for (int i = 0; i < 1005; ++i) h.submit("ds", "j" + std::to_string(i), "c");
  auto page = h.ok<reply::Since>(cmd::Since{"ds", 0, 5000u});
  EXPECT_EQ(page.requests.size(), 1000u);
  EXPECT_TRUE(page.more);
  auto latest = h.ok<reply::Latest>(cmd::Latest{"ds"}).request;
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->job, "j1004");
  EXPECT_EQ(latest->seq, 1005u);
  EXPECT_EQ(h.fails(cmd::Latest{"nope"}).code, Code::not_found);
  EXPECT_EQ(h.fails(cmd::Since{"nope", 0, std::nullopt}).code, Code::not_found);
}

TEST(Latest, DoesNotLeakAcrossDatasourcesSharingAPrefix) {
  Harness h;
  h.datasource("ab");
  h.datasource("abc");
  h.datasource("ab.");  // '.' sorts before 'c'; all share the prefix "ab"
  h.submit("abc", "j", "c");
  h.submit("ab.", "k", "c");
  EXPECT_FALSE(h.ok<reply::Latest>(cmd::Latest{"ab"}).request.has_value());
  EXPECT_TRUE(h.ok<reply::Since>(cmd::Since{"ab", 0, std::nullopt}).requests.empty());
}

TEST(Topics, SeqIsConsecutivePerClientAndPerDatasource) {
  Harness h;
  h.datasource("d1");
  h.datasource("d2");
  std::map<std::string, std::uint64_t> last;  // topic -> last seq
  auto check = [&](const domain::Outcome& out) {
    for (const auto& n : out.notices) {
      std::string topic;
      std::uint64_t seq;
      if (auto* s = std::get_if<StatusNotice>(&n)) topic = "c:" + s->data.client, seq = s->seq;
      else topic = "d:" + std::get<RequestEntry>(n).datasource, seq = std::get<RequestEntry>(n).seq;
      EXPECT_EQ(seq, last[topic] + 1) << topic;
      last[topic] = seq;
    }
  };
  for (int i = 0; i < 20; ++i) {
    const std::string ds = i % 2 ? "d1" : "d2", client = i % 3 ? "ab" : "abc", job = "j" + std::to_string(i);
    check(h.run(cmd::Submit{ds, job, client, body("x")}));
    if (i % 4 == 0) check(h.run(cmd::Cancel{ds, job, client}));
    check(h.run(cmd::Update{ds, job, JobStatus::complete, std::nullopt, std::nullopt}));
  }
  EXPECT_GT(last["c:ab"], 0u);
  EXPECT_GT(last["c:abc"], 0u);
}

TEST(Missed, ReturnsTheClientsNoticesBySeq) {
  Harness h;
  h.datasource("ds");
  auto fresh = h.ok<reply::Missed>(cmd::Missed{"c", 1, std::nullopt});
  EXPECT_TRUE(fresh.notices.empty());
  EXPECT_EQ(fresh.last, 0u);
  for (int i = 0; i < 5; ++i) h.submit("ds", "j" + std::to_string(i), "c");
  h.submit("ds", "other", "c2");
  h.update("ds", "j2", JobStatus::complete);

  auto only_last = h.ok<reply::Missed>(cmd::Missed{"c", 1, 0u});
  EXPECT_TRUE(only_last.notices.empty());
  EXPECT_EQ(only_last.last, 6u);

  auto page = h.ok<reply::Missed>(cmd::Missed{"c", 3, 2u});
  ASSERT_EQ(page.notices.size(), 2u);
  EXPECT_EQ(page.notices[0].seq, 3u);
  EXPECT_EQ(page.notices[0].data.job, "j2");
  EXPECT_TRUE(page.more);
  EXPECT_EQ(page.next, 5u);
  auto rest = h.ok<reply::Missed>(cmd::Missed{"c", page.next, std::nullopt});
  ASSERT_EQ(rest.notices.size(), 2u);
  EXPECT_EQ(rest.notices[1].data.status, JobStatus::complete);
  EXPECT_FALSE(rest.more);
  for (auto& n : rest.notices) EXPECT_EQ(n.data.client, "c");
}

// The invariant: the live view equals the fold of its own log, after a
// long random mix of every command.
TEST(Fold, LiveViewEqualsTheFoldOfTheLog) {
  Harness h;
  std::mt19937 rng(42);
  const char* dss[] = {"a", "b", "c"};
  const char* clients[] = {"x", "xy", "y"};
  constexpr JobStatus statuses[] = {JobStatus::accepted, JobStatus::retrying, JobStatus::complete,
                                    JobStatus::failed, JobStatus::cancelled};
  for (int i = 0; i < 3000; ++i) {
    const std::string ds = dss[rng() % 3], job = "j" + std::to_string(rng() % 50), client = clients[rng() % 3];
    h.now += rng() % 3;  // sometimes the same microsecond
    switch (rng() % 10) {
      case 0: h.run(cmd::DsCreate{ds}); break;
      case 1:
        if (rng() % 8 == 0) h.run(cmd::DsDelete{ds});
        if (rng() % 4 == 0) h.tick(domain::Retention{}, 1 + rng() % 8);  // purges, in small slices
        break;
      case 2: case 3: case 4: h.run(cmd::Submit{ds, job, client, body(job)}); break;
      case 5: h.run(cmd::Cancel{ds, job, client}); break;
      default:
        h.run(cmd::Update{ds, job, statuses[rng() % 5], std::nullopt, std::nullopt});
    }
  }
  ASSERT_GT(h.log_size(), 500u);
  domain::MemKv rebuilt;
  auto n = domain::fold_log(h.kv, rebuilt);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, h.log_size());
  auto diff = domain::diff_views(h.kv, rebuilt);
  EXPECT_TRUE(diff.empty()) << diff.front();
  EXPECT_TRUE(h.kv == rebuilt);
}

// The broker runs a whole turn of commands in one View, which keeps hot
// records (datasource seqs, counters, client seqs, jobs) in memory until
// flush(). That must be invisible: the same commands one View each and many
// per View give the same replies and the same store, byte for byte.
TEST(Turns, CommandsSharingAViewSeeEachOthersWrites) {
  std::mt19937 rng(7);
  const char* dss[] = {"a", "b"};
  std::vector<Command> commands;
  for (int i = 0; i < 3000; ++i) {
    const std::string ds = dss[rng() % 2], job = "j" + std::to_string(rng() % 40), client = rng() % 2 ? "x" : "y";
    switch (rng() % 12) {
      case 0: commands.push_back(cmd::DsCreate{ds}); break;
      case 1: if (rng() % 10 == 0) commands.push_back(cmd::DsDelete{ds}); break;
      case 2: case 3: case 4: commands.push_back(cmd::Submit{ds, job, client, body(job)}); break;
      case 5: commands.push_back(cmd::Cancel{ds, job, client}); break;
      case 6: commands.push_back(cmd::Count{ds, JobStatus::submitted, std::nullopt, ""}); break;
      case 7: commands.push_back(cmd::DsList{}); break;
      case 8: commands.push_back(cmd::Missed{client, 1, 0}); break;
      case 9: {
        cmd::Dequeue d;
        d.datasource = ds;
        d.worker = "w";
        d.limit = 1 + rng() % 3;
        commands.push_back(d);
        break;
      }
      default: commands.push_back(cmd::Update{ds, job, JobStatus::complete, std::nullopt, std::nullopt});
    }
  }
  auto replay = [&](std::size_t max_turn, domain::MemKv& kv) {
    std::vector<std::string> replies;
    std::mt19937 sizes(3);
    domain::Runtime runtime;
    const Micros now = 1'700'000'000'000'000;  // per command, whatever the turns: the clock is not under test
    for (std::size_t i = 0; i < commands.size();) {
      domain::View view(kv);
      const std::size_t n = 1 + sizes() % max_turn;
      for (std::size_t k = 0; k < n && i < commands.size(); ++k, ++i) {
        auto out = domain::execute(view, commands[i], domain::Context{now + Micros{i} * 1000, &runtime});
        replies.push_back(out.reply.ok() ? codec::encode_reply(Reply{0, Code::ok, {}, out.reply.value()})
                                         : out.reply.error().message);
      }
      view.flush();
    }
    return replies;
  };
  domain::MemKv one, many;
  const auto a = replay(1, one);
  const auto b = replay(25, many);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << "command " << i << ": " << command_name(commands[i]);
  auto diff = domain::diff_views(one, many);
  EXPECT_TRUE(diff.empty()) << diff.front();
  EXPECT_TRUE(one == many);
}

TEST(Fold, ReportsALogThatDoesNotFit) {
  Harness h;
  h.datasource("ds");
  h.submit("ds", "j", "c");
  // Corrupt history: drop the ds_create, keep the submit.
  auto& log = h.kv.map(domain::Table::log);
  log.erase(log.begin());
  domain::MemKv rebuilt;
  auto n = domain::fold_log(h.kv, rebuilt);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.error().message.find("submit"), std::string::npos) << n.error().message;
}

TEST(Diff, NamesTheDifferingKeys) {
  Harness a, b;
  a.datasource("ds");
  b.datasource("ds");
  a.submit("ds", "j", "c");
  auto diff = domain::diff_views(a.kv, b.kv);
  ASSERT_FALSE(diff.empty());
  bool named = false;
  for (const auto& line : diff) named |= line.starts_with("job_ids[ds\\x00j]: only in the first view");
  EXPECT_TRUE(named) << ::testing::PrintToString(diff);
}

}  // namespace
}  // namespace ledgerq
