// history (PROTOCOL.md §6.14): a job's events read back from the log, in
// order and with their log keys, a bounded page at a time, recording
// nothing.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace ledgerq {
namespace {

using testing::body;
using testing::Harness;

// A msgpack str of n bytes (str32 header): a body too big for body().
Any big_body(std::size_t n, char fill) {
  std::string m = "\xdb";
  for (int shift = 24; shift >= 0; shift -= 8) m.push_back(static_cast<char>((n >> shift) & 0xff));
  m.append(n, fill);
  return Any{m};
}

// Every page of a job's history, in order, and the number of pages.
std::vector<HistoryEvent> all_pages(Harness& h, const std::string& ds, const std::string& job, int* pages = nullptr) {
  std::vector<HistoryEvent> out;
  std::string cont;
  int n = 0;
  do {
    auto r = h.ok<reply::History>(cmd::History{ds, job, cont});
    out.insert(out.end(), r.events.begin(), r.events.end());
    cont = r.continuation;
    ++n;
  } while (!cont.empty() && n < 100);
  if (pages) *pages = n;
  return out;
}

std::vector<EventType> types_of(const std::vector<HistoryEvent>& events) {
  std::vector<EventType> t;
  for (const auto& e : events) t.push_back(e.event.type);
  return t;
}

TEST(History, ListsTheJobsEventsInOrderWithTheirTimesAndNothingElse) {
  Harness h;
  h.datasource("ds");
  h.datasource("ds2");
  JobOptions typed;
  typed.type = "t";
  const Micros submitted = h.submit_with("ds", "j", typed, "c").timestamp;
  h.submit("ds", "other", "c");   // the same datasource, another job
  h.submit("ds2", "j", "c");      // the same id in another datasource
  h.now += 1000;
  const auto first = h.dequeue("ds", 1, std::vector<std::string>{"t"}, "w1").at(0).state;
  h.dequeue("ds", 1, std::nullopt, "w1");  // leases "other" between j's events
  h.now = first.lease_until;
  ASSERT_EQ(h.tick().stats.expired, 2u);
  const Micros expired = h.state("ds", "j").updated;
  h.now += 5'000'000;  // past the retry backoff
  const auto second = h.dequeue("ds", 1, std::vector<std::string>{"t"}, "w2").at(0).state;
  ASSERT_EQ(h.ack("ds", "j", second.token, "success").code, Code::ok);
  const StatusRecord done = h.state("ds", "j");
  ASSERT_EQ(done.status, JobStatus::complete);
  h.ack("ds2", "j", 99, "success");  // (refused: never leased) nothing of it is logged for ds's j

  int pages = 0;
  const auto events = all_pages(h, "ds", "j", &pages);
  EXPECT_EQ(pages, 1);
  ASSERT_EQ(types_of(events), (std::vector<EventType>{EventType::submit, EventType::lease, EventType::expire,
                                                      EventType::lease, EventType::ack}));
  for (const auto& e : events) {
    EXPECT_EQ(e.event.datasource, "ds");
    EXPECT_EQ(e.event.job, "j");
  }
  EXPECT_EQ(events[0].at, submitted);
  EXPECT_EQ(events[0].event.client, "c");
  EXPECT_EQ(events[0].event.request, body("j"));
  EXPECT_EQ(events[1].at, first.updated);
  EXPECT_EQ(events[1].event.worker, "w1");
  EXPECT_EQ(events[1].event.token, first.token);
  EXPECT_EQ(events[1].event.lease_until, first.lease_until);
  EXPECT_EQ(events[2].at, expired);
  EXPECT_EQ(events[2].event.status, JobStatus::retrying);
  EXPECT_EQ(events[2].event.token, first.token);
  EXPECT_EQ(events[3].at, second.updated);
  EXPECT_EQ(events[3].event.worker, "w2");
  EXPECT_EQ(events[3].event.token, second.token);
  EXPECT_EQ(events[4].at, done.updated);
  EXPECT_EQ(events[4].event.status, JobStatus::complete);
  EXPECT_EQ(events[4].event.response, body("done"));

  // The other job and the same id elsewhere have histories of their own.
  EXPECT_EQ(types_of(all_pages(h, "ds2", "j")), std::vector<EventType>{EventType::submit});
  EXPECT_EQ(all_pages(h, "ds", "other").size(), 3u);  // submit, lease, expire
}

TEST(History, ThePeekAtAnEventsNamesAgreesWithItsDecoding) {
  const Event job{.type = EventType::lease, .datasource = "ds", .job = "j", .worker = "w", .token = 3};
  // The subject views the bytes it was given: they must outlive it.
  const std::string job_bytes = codec::encode(job);
  auto s = codec::peek_event_subject(job_bytes);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->datasource, "ds");
  EXPECT_EQ(s->job, "j");
  const Event own{.type = EventType::ds_create, .datasource = "ds", .ds_options = DsOptions{}};
  const std::string own_bytes = codec::encode(own);
  s = codec::peek_event_subject(own_bytes);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->job, "");
  // Not our encoder's order: left to the decoder.
  EXPECT_FALSE(codec::peek_event_subject("\x82\xaa" "datasource" "\xa2" "ds" "\xa4" "type" "\xa5" "lease"));
  EXPECT_FALSE(codec::peek_event_subject(codec::encode(job).substr(0, 10)));  // truncated
}

TEST(History, RecordsNothing) {
  Harness h;
  h.datasource("ds");
  h.submit("ds", "j", "c");
  const auto before = h.log_size();
  auto out = h.run(cmd::History{"ds", "j", ""});
  ASSERT_TRUE(out.reply.ok());
  EXPECT_TRUE(out.notices.empty());
  EXPECT_EQ(h.log_size(), before);
}

TEST(History, APageReadsAtMostTenThousandLogEntries) {
  Harness h;
  h.datasource("ds");
  h.submit("ds", "j", "c");
  // 10,500 entries of other jobs between j's submit and its completion.
  for (int b = 0; b < 21; ++b) {
    cmd::SubmitBatch batch{"ds", "c", {}};
    for (int i = 0; i < 500; ++i) batch.jobs.push_back({"o" + std::to_string(b * 500 + i), body("x"), std::nullopt});
    h.ok<reply::SubmitBatch>(batch);
  }
  h.update("ds", "j", JobStatus::complete);
  auto first = h.ok<reply::History>(cmd::History{"ds", "j", ""});
  ASSERT_EQ(types_of(first.events), std::vector<EventType>{EventType::submit});
  ASSERT_FALSE(first.continuation.empty()) << "the page stopped at its 10,000 entries";
  auto second = h.ok<reply::History>(cmd::History{"ds", "j", first.continuation});
  EXPECT_EQ(types_of(second.events), std::vector<EventType>{EventType::status});
  EXPECT_EQ(second.continuation, "");
  // A continuation is this job's: another job's history refuses it, and
  // so does one that is no continuation at all.
  h.submit("ds", "late", "c");
  EXPECT_EQ(h.fails(cmd::History{"ds", "late", first.continuation}).code, Code::bad_request);
  EXPECT_EQ(h.fails(cmd::History{"ds", "j", "k0102"}).code, Code::bad_request);
  EXPECT_EQ(h.fails(cmd::History{"ds", "j", "h00000000000000zz"}).code, Code::bad_request);
}

TEST(History, APageStopsAtTheReplyByteBudget) {
  Harness h;
  h.datasource("ds");
  h.ok<reply::Submit>(cmd::Submit{"ds", "j", "c", big_body(700'000, 'a'), std::nullopt});
  h.ok<reply::Status>(cmd::Update{"ds", "j", JobStatus::complete, big_body(700'000, 'b'), std::nullopt});
  auto first = h.ok<reply::History>(cmd::History{"ds", "j", ""});
  ASSERT_EQ(types_of(first.events), std::vector<EventType>{EventType::submit});
  ASSERT_FALSE(first.continuation.empty());
  auto second = h.ok<reply::History>(cmd::History{"ds", "j", first.continuation});
  ASSERT_EQ(types_of(second.events), std::vector<EventType>{EventType::status});
  EXPECT_EQ(second.events[0].event.response, big_body(700'000, 'b'));
  EXPECT_EQ(second.continuation, "");
}

TEST(History, UnknownJobsAndDatasourcesAre404AndADeletedJobsIdStartsAfresh) {
  Harness h;
  h.datasource("ds");
  EXPECT_EQ(h.fails(cmd::History{"ds", "nobody", ""}).code, Code::not_found);
  EXPECT_EQ(h.fails(cmd::History{"nope", "j", ""}).code, Code::not_found);
  h.submit("ds", "j", "c");
  h.update("ds", "j", JobStatus::cancelled);
  h.ok<reply::Delete>(cmd::Delete{"ds", cmd::JobFilter{.status = JobStatus::cancelled}, std::nullopt});
  EXPECT_EQ(h.fails(cmd::History{"ds", "j", ""}).code, Code::not_found);
  const Micros again = h.submit("ds", "j", "c").timestamp;
  auto events = all_pages(h, "ds", "j");
  ASSERT_EQ(events.size(), 1u) << "the deleted job's events are not the new one's";
  EXPECT_EQ(events[0].at, again);
}

TEST(History, StartsAtTheFirstEntryRetentionKept) {
  Harness h;
  h.datasource("ds");
  h.submit("ds", "j", "c");
  h.now += 10'000'000;
  h.update("ds", "j", JobStatus::accepted);
  h.tick(domain::Retention{.log_age = 5'000'000});  // trims the submit
  auto events = all_pages(h, "ds", "j");
  EXPECT_EQ(types_of(events), std::vector<EventType>{EventType::status});
}

}  // namespace
}  // namespace ledgerq
