// SIGKILL during concurrent submits and updates, then a restart: every
// acknowledged job is there with its last acknowledged status, and the view
// still equals the fold of the log (nothing half-applied).
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "broker_process.hpp"
#include "domain/mem_kv.hpp"
#include "domain/verify.hpp"
#include "domain/view.hpp"
#include "raw_peer.hpp"
#include "verify_store.hpp"
#include "storage/lmdb_env.hpp"

namespace ledgerq {
namespace {

using namespace std::chrono_literals;
using testing::BrokerProcess;
using testing::RawPeer;

struct Acked {
  Micros submitted = 0;
  bool completed = false;  // an update to complete was acknowledged
};

// One producer: submit, and complete every third job, until the broker
// stops answering. Records only what the broker acknowledged.
void produce(zmq::context_t& ctx, const std::string& router, int id, std::mutex& mu,
             std::map<std::string, Acked>& acked, std::atomic<int>& count) {
  RawPeer peer(ctx, router);
  for (int i = 0;; ++i) {
    const std::string job = "t" + std::to_string(id) + "-" + std::to_string(i);
    std::string body(1, static_cast<char>(0xa0 | 5));
    body += "hello";
    peer.send_frames({std::string(codec::kSignature),
                      codec::encode_request(Request{1, cmd::Submit{"ds", job, "c" + std::to_string(id), Any{body}}})});
    auto frames = peer.receive(2s);
    if (!frames) return;  // the broker is gone
    auto r = codec::decode_reply((*frames)[1], "submit");
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->code, Code::ok) << r->message;
    {
      std::lock_guard lock(mu);
      acked[job].submitted = std::get<reply::Submit>(r->body).timestamp;
    }
    ++count;
    if (i % 3 != 0) continue;
    peer.send_frames({std::string(codec::kSignature),
                      codec::encode_request(Request{2, cmd::Update{"ds", job, JobStatus::complete, std::nullopt, std::nullopt}})});
    frames = peer.receive(2s);
    if (!frames) return;
    r = codec::decode_reply((*frames)[1], "update");
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->code, Code::ok) << r->message;
    std::lock_guard lock(mu);
    acked[job].completed = true;
  }
}

TEST(Crash, SigkillDuringConcurrentSubmitsLosesNothingAcknowledged) {
  testing::TempDir dir;
  const auto data = dir.path() / "data";
  zmq::context_t ctx{1};
  std::mutex mu;
  std::map<std::string, Acked> acked;
  std::mt19937 rng(99);

  for (int round = 0; round < 3; ++round) {
    BrokerProcess broker(data);
    RawPeer(ctx, broker.router()).ok<reply::DsCreate>(cmd::DsCreate{"ds"});
    std::atomic<int> count{0};
    std::vector<std::thread> producers;
    for (int p = 0; p < 4; ++p)
      producers.emplace_back(produce, std::ref(ctx), broker.router(), round * 10 + p, std::ref(mu),
                             std::ref(acked), std::ref(count));
    const int kill_after = 50 + static_cast<int>(rng() % 300);
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (count < kill_after && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
    broker.kill9();
    for (auto& t : producers) t.join();
    ASSERT_GE(count.load(), kill_after) << "producers stalled";
  }

  BrokerProcess broker(data);
  RawPeer peer(ctx, broker.router());
  std::size_t completed = 0;
  for (const auto& [job, a] : acked) {
    const std::string client = "c" + job.substr(1, job.find('-') - 1);
    auto r = peer.call(cmd::Status{"ds", job, client});
    ASSERT_EQ(r.code, Code::ok) << job << " was acknowledged but is gone: " << r.message;
    const auto& s = std::get<reply::Status>(r.body).status;
    EXPECT_EQ(s.submitted, a.submitted) << job;
    if (a.completed) {
      EXPECT_EQ(s.status, JobStatus::complete) << job;
      ++completed;
    }
  }
  EXPECT_GT(acked.size(), 150u);
  EXPECT_GT(completed, 50u);
  ASSERT_EQ(broker.terminate(), 0);

  testing::expect_view_is_fold_of_log(data);
}

// Acknowledged turns that LMDB does not hold yet (the broker writes it
// behind the journal) are applied from the journal at the next start.
TEST(Crash, TurnsOnlyTheJournalHeldAreAppliedAtTheNextStart) {
  testing::TempDir dir;
  const auto data = dir.path() / "data";
  const auto log = dir.path() / "broker.log";
  zmq::context_t ctx{1};
  std::vector<std::string> jobs;
  {
    BrokerProcess broker(data);
    RawPeer peer(ctx, broker.router());
    peer.ok<reply::DsCreate>(cmd::DsCreate{"ds", std::nullopt});
    for (int i = 0; i < 40; ++i) {
      jobs.push_back("j" + std::to_string(i));
      std::string body(1, static_cast<char>(0xa0 | 2));
      body += "hi";
      peer.ok<reply::Submit>(cmd::Submit{"ds", jobs.back(), "c", Any{body}, std::nullopt});
    }
    broker.kill9();  // at once: no checkpoint after the last turns, as a rule
  }
  std::size_t in_lmdb = 0;
  {
    storage::EnvOptions o;
    o.dir = data;
    o.read_only = true;
    storage::Env env(o);
    auto txn = env.begin_read();
    txn.scan(domain::Table::log, "", [&](std::string_view, std::string_view) { return ++in_lmdb, true; });
  }
  BrokerProcess broker(data, {"--log-level", "info"}, log);
  RawPeer peer(ctx, broker.router());
  for (const auto& job : jobs)
    ASSERT_EQ(peer.call(cmd::Status{"ds", job, "c"}).code, Code::ok) << job << " was acknowledged but is gone";
  ASSERT_EQ(broker.terminate(), 0);
  std::ifstream f(log);
  const std::string lines((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (in_lmdb < jobs.size() + 1) {  // the ds_create and 40 submits
    EXPECT_NE(lines.find("journal records"), std::string::npos) << "LMDB held " << in_lmdb << " entries\n" << lines;
  }
  std::printf("LMDB held %zu of %zu log entries at the kill\n", in_lmdb, jobs.size() + 1);
  testing::expect_view_is_fold_of_log(data);
}

// A turn bigger than half the journal's ring goes to LMDB instead, in a
// durable checkpoint before its reply.
TEST(Crash, ATurnTooBigForTheJournalIsInLMDBBeforeItsReply) {
  testing::TempDir dir;
  const auto data = dir.path() / "data";
  zmq::context_t ctx{1};
  std::string big(1, '\xc6');  // bin32 of 200,000 bytes
  for (int shift = 24; shift >= 0; shift -= 8) big.push_back(static_cast<char>((200'000 >> shift) & 0xff));
  big += std::string(200'000, 'b');
  {
    BrokerProcess broker(data, {"--journal-size", "256KiB"});
    RawPeer peer(ctx, broker.router());
    peer.ok<reply::DsCreate>(cmd::DsCreate{"ds", std::nullopt});
    peer.ok<reply::Submit>(cmd::Submit{"ds", "big", "c", Any{big}, std::nullopt});
    broker.kill9();
  }
  {
    storage::EnvOptions o;
    o.dir = data;
    o.read_only = true;
    storage::Env env(o);
    auto txn = env.begin_read();
    EXPECT_TRUE(txn.get(domain::Table::job_ids, domain::join("ds", "big"))) << "not in LMDB at the kill";
  }
  BrokerProcess broker(data, {"--journal-size", "256KiB"});
  RawPeer peer(ctx, broker.router());
  EXPECT_EQ(peer.ok<reply::Status>(cmd::Status{"ds", "big", "c"}).status.status, JobStatus::submitted);
  ASSERT_EQ(broker.terminate(), 0);
  testing::expect_view_is_fold_of_log(data);
}

}  // namespace
}  // namespace ledgerq
