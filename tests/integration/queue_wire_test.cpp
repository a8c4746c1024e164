// The work queue over real sockets: parked dequeues woken by a submit or by
// run_after, answered empty at their deadline; backpressure codes; a lease
// that expires in a live broker.
#include <gtest/gtest.h>

#include <thread>

#include "broker_process.hpp"
#include "raw_peer.hpp"

namespace ledgerq {
namespace {

using namespace std::chrono_literals;
using testing::BrokerProcess;
using testing::RawPeer;
using testing::text;

cmd::Dequeue dequeue(std::uint32_t wait_ms, std::optional<std::uint32_t> lease_ms = std::nullopt) {
  cmd::Dequeue d;
  d.datasource = "q";
  d.worker = "w";
  d.wait_ms = wait_ms;
  d.lease_ms = lease_ms;
  return d;
}

class QueueWire : public ::testing::Test {
 protected:
  void SetUp() override { peer_.ok<reply::DsCreate>(cmd::DsCreate{"q", std::nullopt}); }
  testing::TempDir dir_;
  BrokerProcess broker_{dir_.path() / "data"};
  zmq::context_t ctx_{1};
  RawPeer peer_{ctx_, broker_.router()};
};

TEST_F(QueueWire, AParkedDequeueIsWokenByASubmit) {
  RawPeer worker(ctx_, broker_.router());
  worker.send_frames({std::string(codec::kSignature), codec::encode_request(Request{1, dequeue(60'000)})});
  EXPECT_FALSE(worker.receive(200ms)) << "nothing to lease: it must wait";
  peer_.ok<reply::Submit>(cmd::Submit{"q", "j", "c", text("b"), std::nullopt});
  // Had it not been woken, the answer would come after 60 s: the test's
  // 10 s receive would fail first.
  auto r = worker.expect_reply("dequeue");
  ASSERT_EQ(r.code, Code::ok) << r.message;
  auto jobs = std::get<reply::Dequeue>(r.body).jobs;
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].state.job, "j");
  EXPECT_EQ(jobs[0].state.status, JobStatus::accepted);
}

TEST_F(QueueWire, AParkedDequeueWakesAtRunAfterAndEndsEmptyAtItsDeadline) {
  auto now = peer_.ok<reply::Ping>(cmd::Ping{}).now;
  JobOptions later;
  later.run_after = now + 300'000;  // 300 ms
  peer_.ok<reply::Submit>(cmd::Submit{"q", "later", "c", text("b"), later});
  auto got = peer_.ok<reply::Dequeue>(dequeue(30'000));
  ASSERT_EQ(got.jobs.size(), 1u);
  EXPECT_EQ(got.jobs[0].state.job, "later");
  EXPECT_GE(peer_.ok<reply::Ping>(cmd::Ping{}).now, *later.run_after);
  auto none = peer_.ok<reply::Dequeue>(dequeue(200));
  EXPECT_TRUE(none.jobs.empty());
}

TEST_F(QueueWire, DeleteAndDsDeleteWakeParkedDequeuesAtOnce) {
  JobOptions keyed;
  keyed.key = "k";
  peer_.ok<reply::Submit>(cmd::Submit{"q", "first", "c", text("b"), keyed});
  peer_.ok<reply::Submit>(cmd::Submit{"q", "second", "c", text("b"), keyed});
  ASSERT_EQ(peer_.ok<reply::Dequeue>(dequeue(0)).jobs.size(), 1u);  // "first"; "second" waits behind it
  RawPeer worker(ctx_, broker_.router());
  worker.send_frames({std::string(codec::kSignature), codec::encode_request(Request{1, dequeue(60'000)})});
  EXPECT_FALSE(worker.receive(200ms)) << "the key's next job waits: nothing to lease";
  // An operator deletes the held job: the next of its key comes forward,
  // and the parked dequeue takes it now, not in 60 s.
  cmd::Delete del{"q", {}, std::nullopt};
  del.filter.status = JobStatus::accepted;
  ASSERT_EQ(peer_.ok<reply::Delete>(del).deleted, 1u);
  auto r = worker.expect_reply("dequeue");
  ASSERT_EQ(r.code, Code::ok) << r.message;
  ASSERT_EQ(std::get<reply::Dequeue>(r.body).jobs.size(), 1u);
  EXPECT_EQ(std::get<reply::Dequeue>(r.body).jobs[0].state.job, "second");
  // A datasource deleted under a parked dequeue: 404 at once.
  worker.send_frames({std::string(codec::kSignature), codec::encode_request(Request{2, dequeue(60'000)})});
  EXPECT_FALSE(worker.receive(200ms));
  ASSERT_TRUE(peer_.ok<reply::DsDelete>(cmd::DsDelete{"q"}).deleted);
  auto gone = worker.expect_reply("dequeue");
  EXPECT_EQ(gone.rid, 2u);
  EXPECT_EQ(gone.code, Code::not_found) << gone.message;
}

// Paused: submits land, dequeues lease nothing (the acks they carry count),
// a waiting dequeue waits through the pause, and the resume wakes it.
TEST_F(QueueWire, APausedDatasourceLeasesNothingUntilItsResumeWakesTheWaitingDequeue) {
  peer_.ok<reply::Submit>(cmd::Submit{"q", "held", "c", text("b"), std::nullopt});
  const auto held = peer_.ok<reply::Dequeue>(dequeue(0)).jobs.at(0).state;
  DsOptions paused;
  paused.lease_ms = 45'000;
  paused.paused = true;
  EXPECT_TRUE(peer_.ok<reply::DsConfigure>(cmd::DsConfigure{"q", paused}).options.paused);
  peer_.ok<reply::Submit>(cmd::Submit{"q", "j", "c", text("b"), std::nullopt});
  auto d = dequeue(0);
  d.acks = {cmd::AckItem{"held", held.token, "success", std::nullopt, std::nullopt, std::nullopt, ""}};
  auto none = peer_.ok<reply::Dequeue>(d);
  EXPECT_TRUE(none.jobs.empty()) << "paused";
  ASSERT_EQ(none.acks.size(), 1u);
  EXPECT_EQ(none.acks[0].code, Code::ok) << "an ack still counts while paused";
  RawPeer worker(ctx_, broker_.router());
  worker.send_frames({std::string(codec::kSignature), codec::encode_request(Request{1, dequeue(60'000)})});
  EXPECT_FALSE(worker.receive(300ms)) << "paused: it waits";
  paused.paused = false;
  peer_.ok<reply::DsConfigure>(cmd::DsConfigure{"q", paused});
  auto r = worker.expect_reply("dequeue");  // now, not in 60 s
  ASSERT_EQ(r.code, Code::ok) << r.message;
  ASSERT_EQ(std::get<reply::Dequeue>(r.body).jobs.size(), 1u);
  EXPECT_EQ(std::get<reply::Dequeue>(r.body).jobs[0].state.job, "j");
}

TEST_F(QueueWire, ALeaseThatRunsOutComesBackToTheQueue) {
  peer_.ok<reply::Submit>(cmd::Submit{"q", "j", "c", text("b"), std::nullopt});
  auto first = peer_.ok<reply::Dequeue>(dequeue(0, 200)).jobs.at(0).state;
  // Parked until the broker's timer expires the lease and the job is
  // eligible again.
  auto second = peer_.ok<reply::Dequeue>(dequeue(30'000, 200)).jobs.at(0).state;
  EXPECT_EQ(second.job, "j");
  EXPECT_EQ(second.token, first.token + 1);
  EXPECT_EQ(second.attempts_made, 2u);
  auto stale = peer_.ok<reply::Ack>(cmd::Ack{"q", {cmd::AckItem{"j", first.token, "success", std::nullopt,
                                                                 std::nullopt, std::nullopt, ""}}});
  EXPECT_EQ(stale.results.at(0).code, Code::conflict);
  // The broker's figures show it.
  auto st = peer_.ok<reply::Stats>(cmd::Stats{});
  EXPECT_EQ(st.expired, 1u);
  EXPECT_EQ(st.parked, 1u);
  EXPECT_GE(st.requests, 5u);
  EXPECT_LE(st.transactions, st.requests + 2) << "group commit: no more commits than requests (and ticks)";
  EXPECT_GT(st.log_entries, 3u);
  EXPECT_GT(st.log_bytes, 0u);
  EXPECT_GT(st.map_used, 0u);
  EXPECT_GT(st.map_size, st.map_used);
  EXPECT_GT(st.now, st.started);
  ASSERT_EQ(st.datasources.size(), 1u);
  EXPECT_EQ(st.datasources[0].counts.accepted, 1u);
}

TEST_F(QueueWire, StatsCountPeersSubscriptionsAndLastMinuteRates) {
  testing::Subscriber watcher(ctx_, broker_.status_pub(), codec::status_topic("c"));
  testing::Subscriber driver(ctx_, broker_.requests_pub(), codec::request_topic("q"));
  RawPeer other(ctx_, broker_.router());
  other.ok<reply::Ping>(cmd::Ping{});
  int n = 0;
  testing::await_subscription(watcher, [&] {
    peer_.ok<reply::Submit>(cmd::Submit{"q", "w" + std::to_string(n++), "c", text("b"), std::nullopt});
  });
  testing::await_subscription(driver, [&] {
    peer_.ok<reply::Submit>(cmd::Submit{"q", "w" + std::to_string(n++), "c", text("b"), std::nullopt});
  });
  auto leased = peer_.ok<reply::Dequeue>(dequeue(0)).jobs.at(0).state;
  peer_.ok<reply::Ack>(cmd::Ack{"q", {cmd::AckItem{leased.job, leased.token, "success", std::nullopt, std::nullopt,
                                                   std::nullopt, ""}}});
  auto st = peer_.ok<reply::Stats>(cmd::Stats{});
  EXPECT_EQ(st.peers, 2u);
  EXPECT_EQ(st.status_subscriptions, 1u);
  EXPECT_EQ(st.request_subscriptions, 1u);
  ASSERT_EQ(st.datasources.size(), 1u);
  EXPECT_EQ(st.datasources[0].submitted_1m, static_cast<std::uint64_t>(n));
  EXPECT_EQ(st.datasources[0].completed_1m, 1u);
}

// apply_us and commit_us: real time spent, in microseconds, no more of it
// than the broker has been up.
TEST_F(QueueWire, StatsTellWhereTheBrokersTimeWent) {
  const auto before = peer_.ok<reply::Stats>(cmd::Stats{});
  for (int i = 0; i < 20; ++i)
    peer_.ok<reply::Submit>(cmd::Submit{"q", "t" + std::to_string(i), "c", text("b"), std::nullopt});
  const auto st = peer_.ok<reply::Stats>(cmd::Stats{});
  EXPECT_GE(st.transactions, before.transactions + 20);
  EXPECT_GT(st.apply_us, before.apply_us);
  EXPECT_GT(st.commit_us, before.commit_us);
  EXPECT_LE(st.apply_us + st.commit_us, st.now - st.started);
}

TEST_F(QueueWire, BackpressureAnswersWithRetryLaterCodes) {
  DsOptions o;
  o.max_pending = 1;
  o.dequeue_rate = 1;
  peer_.ok<reply::DsCreate>(cmd::DsCreate{"bp", o});
  peer_.ok<reply::Submit>(cmd::Submit{"bp", "a", "c", text("b"), std::nullopt});
  auto full = peer_.call(cmd::Submit{"bp", "b", "c", text("b"), std::nullopt});
  EXPECT_EQ(full.code, Code::queue_full) << full.message;
  cmd::Dequeue d;
  d.datasource = "bp";
  d.worker = "w";
  EXPECT_EQ(peer_.call(d).code, Code::ok);
  auto limited = peer_.call(d);
  EXPECT_EQ(limited.code, Code::rate_limited) << limited.message;
}

TEST_F(QueueWire, AParkedDequeueOfAPeerThatLeftNeverTakesAJob) {
  {
    RawPeer dead(ctx_, broker_.router());
    dead.send_frames({std::string(codec::kSignature),
                      codec::encode_request(Request{1, dequeue(60'000, 3'600'000)})});
    EXPECT_FALSE(dead.receive(200ms)) << "parked";
  }  // the worker goes away while it waits
  std::this_thread::sleep_for(200ms);  // the broker hears of the disconnect
  peer_.ok<reply::Submit>(cmd::Submit{"q", "j", "c", text("b"), std::nullopt});
  auto got = peer_.ok<reply::Dequeue>(cmd::Dequeue{.datasource = "q", .worker = "alive"}).jobs;
  ASSERT_EQ(got.size(), 1u) << "the job went to the worker that left";
  EXPECT_EQ(got[0].state.worker, "alive");
  EXPECT_EQ(got[0].state.attempts_made, 1u);
}

TEST_F(QueueWire, OnePeerCannotTakeEveryParkingPlace) {
  RawPeer greedy(ctx_, broker_.router());
  for (std::uint64_t i = 1; i <= 300; ++i)
    greedy.send_frames({std::string(codec::kSignature), codec::encode_request(Request{i, dequeue(60'000)})});
  // Past its 256 places, the rest are answered at once, with no jobs.
  std::size_t answered = 0;
  while (greedy.receive(300ms)) ++answered;
  EXPECT_EQ(answered, 300u - 256u);
  // Another peer's dequeue still waits for a job, and gets it.
  RawPeer honest(ctx_, broker_.router());
  honest.send_frames({std::string(codec::kSignature), codec::encode_request(Request{1, dequeue(60'000)})});
  EXPECT_FALSE(honest.receive(200ms)) << "the honest peer's dequeue must wait, not be answered at once";
}

TEST_F(QueueWire, ASubscriptionOverItsSizeDropsItsPeerUnread) {
  // 4 KiB (a 16 MiB one would take this test's own SUB down: libzmq's trie
  // recurses once per byte). The broker reads at most 1 KiB a message there.
  zmq::socket_t big(ctx_, zmq::socket_type::sub);
  big.set(zmq::sockopt::linger, 0);
  big.set(zmq::sockopt::subscribe, std::string(4096, 'x'));
  big.connect(broker_.status_pub());
  testing::Subscriber control(ctx_, broker_.status_pub(), codec::status_topic("c"));
  int n = 0;
  testing::await_subscription(control, [&] {
    peer_.ok<reply::Submit>(cmd::Submit{"q", "poke-" + std::to_string(n++), "c", text("p"), std::nullopt});
  });
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(broker_.alive());
  EXPECT_EQ(peer_.ok<reply::Stats>(cmd::Stats{}).status_subscriptions, 1u) << "only the control's is admitted";
}

}  // namespace
}  // namespace ledgerq
