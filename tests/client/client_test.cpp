// Client commands against a real broker: submit, idempotency, status,
// cancel, pipelining, and the mapping of broker errors to codes.
#include <gtest/gtest.h>

#include <future>

#include "support.hpp"

namespace {
using namespace lqt;

class ClientTest : public BrokerTest {
 protected:
  void SetUp() override {
    BrokerTest::SetUp();
    driver_ = std::make_unique<lq::Driver>(driver_options());
    ASSERT_TRUE(driver_->create_datasource("ds1"));
  }
  std::unique_ptr<lq::Driver> driver_;
};

TEST_F(ClientTest, PingAnswers) {
  lq::Client c("alice", client_options());
  auto info = c.ping();
  EXPECT_EQ(info.version, 1u);
  EXPECT_GT(info.now, 0u);
  // The broker's release, the library's and the headers' are this build's.
  EXPECT_EQ(info.release, LEDGERQ_VERSION);
  EXPECT_STREQ(lq::version(), LEDGERQ_VERSION);
  EXPECT_EQ(std::to_string(LEDGERQ_VERSION_MAJOR) + "." + std::to_string(LEDGERQ_VERSION_MINOR) + "." +
                std::to_string(LEDGERQ_VERSION_PATCH),
            LEDGERQ_VERSION);
}

TEST_F(ClientTest, SubmitIsIdempotent) {
  lq::Client c("alice", client_options());
  auto body = lq::Payload::from_json(R"({"q": 42})");
  auto first = c.submit("ds1", "j1", body);
  EXPECT_EQ(first.job, "j1");
  EXPECT_EQ(first.client, "alice");
  EXPECT_FALSE(first.duplicate);
  EXPECT_GT(first.timestamp, 0u);

  auto again = c.submit("ds1", "j1", body);
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.timestamp, first.timestamp);

  expect_code(lq::Code::conflict, [&] { (void)c.submit("ds1", "j1", lq::Payload::from_text("other")); });
}

TEST_F(ClientTest, StatusAndCancel) {
  lq::Client c("alice", client_options());
  auto s = c.submit("ds1", "j1", lq::Payload::from_text("work"));
  auto st = c.status("ds1", "j1");
  EXPECT_EQ(st.job, "j1");
  EXPECT_EQ(st.client, "alice");
  EXPECT_EQ(st.status, lq::JobStatus::submitted);
  EXPECT_EQ(st.submitted, s.timestamp);
  EXPECT_FALSE(st.cancel_requested);

  // Nobody holds it yet, so it is cancelled at once.
  auto after = c.cancel("ds1", "j1");
  EXPECT_EQ(after.status, lq::JobStatus::cancelled);
  EXPECT_EQ(c.status("ds1", "j1").status, lq::JobStatus::cancelled);
}

TEST_F(ClientTest, ErrorsMapToCodes) {
  lq::Client alice("alice", client_options());
  lq::Client bob("bob", client_options());
  (void)alice.submit("ds1", "j1", lq::Payload());

  expect_code(lq::Code::not_found, [&] { (void)alice.submit("nope", "j1", lq::Payload()); });
  expect_code(lq::Code::not_found, [&] { (void)alice.status("ds1", "missing"); });
  expect_code(lq::Code::forbidden, [&] { (void)bob.status("ds1", "j1"); });
  expect_code(lq::Code::forbidden, [&] { (void)bob.cancel("ds1", "j1"); });
  expect_code(lq::Code::bad_request, [&] { (void)alice.submit("bad name!", "j1", lq::Payload()); });
  expect_code(lq::Code::bad_request, [&] { (void)alice.status("ds1", ""); });
  expect_code(lq::Code::too_large, [&] { (void)alice.status("ds1", std::string(129, 'j')); });
  try {
    (void)alice.status("ds1", "missing");
  } catch (const lq::Error& e) {
    EXPECT_FALSE(e.retryable());
    EXPECT_FALSE(e.message().empty());
  }
}

TEST_F(ClientTest, PipelinedSubmitsFromOneThread) {
  lq::Client c("alice", client_options());
  constexpr int kInFlight = 64;
  std::vector<std::future<lq::SubmitResult>> fs;
  for (int round = 0; round < 4; ++round) {
    fs.clear();
    for (int i = 0; i < kInFlight; ++i)
      fs.push_back(c.submit_async("ds1", "r" + std::to_string(round) + "-" + std::to_string(i),
                                  lq::Payload::from_bytes(std::string(100, 'b'))));
    lq::Micros prev = 0;
    for (int i = 0; i < kInFlight; ++i) {
      auto r = fs[static_cast<std::size_t>(i)].get();
      EXPECT_EQ(r.job, "r" + std::to_string(round) + "-" + std::to_string(i));
      EXPECT_FALSE(r.duplicate);
      EXPECT_GT(r.timestamp, prev) << "sent in call order, so applied in call order";
      prev = r.timestamp;
    }
  }
}

// A blocking call goes straight to the broker on a socket of its own only
// while nothing else of the Client is unanswered: a status asked right
// after a submit_async still unanswered must not reach the broker first.
TEST_F(ClientTest, ABlockingCallNeverOvertakesAnEarlierAsyncOne) {
  lq::Client c("alice", client_options());
  for (int i = 0; i < 200; ++i) {
    const std::string job = "o" + std::to_string(i);
    auto submitted = c.submit_async("ds1", job, lq::Payload::from_text("x"));
    EXPECT_EQ(c.status("ds1", job).job, job) << "the status overtook the submit";
    (void)submitted.get();
  }
}

// Blocking calls skip the I/O thread (Engine::call_direct): one is answered
// while that thread is held in a slow on_notice callback.
TEST_F(ClientTest, ABlockingCallIsAnsweredWhileTheIoThreadIsBusy) {
  std::mutex mu;
  std::condition_variable cv;
  bool in_callback = false, release = false;
  lq::ClientOptions o = client_options();
  o.timeout = 5s;
  o.resync_interval = 0ms;  // no tail check in flight while the thread is held
  o.on_notice = [&](const lq::StatusNotice&) {
    std::unique_lock lk(mu);
    in_callback = true;
    cv.notify_all();
    // Bounded: should the I/O thread be held while the test waits on it
    // (a submit that went through it, answered after its notice), the test
    // fails in time instead of hanging.
    cv.wait_for(lk, 10s, [&] { return release; });
  };
  lq::Client c("alice", o);
  // Whatever happens below, the callback returns before the Client stops.
  struct Release {
    std::mutex& mu;
    std::condition_variable& cv;
    bool& release;
    void now() {
      {
        std::lock_guard lk(mu);
        release = true;
      }
      cv.notify_all();
    }
    ~Release() { now(); }
  } guard{mu, cv, release};
  ASSERT_TRUE(c.sync(5s));
  std::this_thread::sleep_for(1500ms);  // past the checks made just after start (50, 250, 1050 ms)
  (void)c.submit("ds1", "held", lq::Payload::from_text("x"));
  {
    std::unique_lock lk(mu);
    ASSERT_TRUE(cv.wait_for(lk, 5s, [&] { return in_callback; })) << "no notice came";
  }
  // On the caller's thread: answered while the callback still holds the
  // I/O thread (through that thread it would wait for the callback, and
  // past its own timeout, which that thread enforces).
  auto answered = std::async(std::launch::async, [&] { return c.status("ds1", "held").status; });
  const bool in_time = answered.wait_for(5s) == std::future_status::ready;
  guard.now();  // the callback returns before `answered` is waited for
  EXPECT_TRUE(in_time) << "the blocking call waited for the I/O thread";
  EXPECT_EQ(answered.get(), lq::JobStatus::submitted);
}

TEST_F(ClientTest, ManyThreadsShareOneClient) {
  lq::Client c("alice", client_options());
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        auto id = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (!c.submit("ds1", id, lq::Payload::from_text(id)).duplicate &&
            c.status("ds1", id).status == lq::JobStatus::submitted)
          ++ok;
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), 100);
}

TEST_F(ClientTest, BlockingCallFromCallbackIsRefused) {
  std::atomic<lq::Client*> self{nullptr};
  Collector<std::string> seen;
  lq::Client c("alice", client_options([&](const lq::StatusNotice&) {
    try {
      if (auto* p = self.load()) (void)p->status("ds1", "j1");
      seen.push("no throw");
    } catch (const std::logic_error&) {
      seen.push("logic_error");
    }
  }));
  self = &c;
  (void)c.submit("ds1", "j1", lq::Payload());
  ASSERT_TRUE(seen.wait_size(1));
  EXPECT_EQ(seen.items()[0], "logic_error");
}

}  // namespace
