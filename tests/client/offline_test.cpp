// Behaviour with no broker at all: timeouts, closing, argument checks.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "support.hpp"

namespace {
using namespace lqt;

// A loopback endpoint where nothing listens: bind port 0, note it, close.
std::string dead_endpoint() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return "tcp://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
}

lq::ClientOptions offline_client(std::chrono::milliseconds timeout) {
  lq::ClientOptions o;
  o.router = dead_endpoint();
  o.status_pub = dead_endpoint();
  o.timeout = timeout;
  return o;
}

TEST(Offline, ClientCommandsTimeOut) {
  lq::Client c("c1", offline_client(200ms));
  const auto t0 = std::chrono::steady_clock::now();
  expect_code(lq::Code::timeout, [&] { (void)c.submit("ds", "j1", lq::Payload::from_text("x")); });
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 150ms);
  EXPECT_LT(took, 5s);
  expect_code(lq::Code::timeout, [&] { (void)c.ping(); });
  auto f = c.status_async("ds", "j1");
  expect_code(lq::Code::timeout, [&] { (void)f.get(); });
}

TEST(Offline, DriverCommandsTimeOut) {
  lq::DriverOptions o;
  o.router = dead_endpoint();
  o.requests_pub = dead_endpoint();
  o.timeout = 200ms;
  lq::Driver d(o);
  expect_code(lq::Code::timeout, [&] { (void)d.create_datasource("ds"); });
  expect_code(lq::Code::timeout, [&] { d.follow("ds", 0, [](const lq::RequestEntry&) {}); });
}

TEST(Offline, ManyPendingAllTimeOut) {
  lq::Client c("c1", offline_client(300ms));
  std::vector<std::future<lq::SubmitResult>> fs;
  for (int i = 0; i < 64; ++i) fs.push_back(c.submit_async("ds", "j" + std::to_string(i), lq::Payload()));
  for (auto& f : fs) expect_code(lq::Code::timeout, [&] { (void)f.get(); });
}

TEST(Offline, DestroyingFailsPendingWithClosed) {
  std::future<lq::SubmitResult> f;
  {
    lq::Client c("c1", offline_client(60s));
    f = c.submit_async("ds", "j1", lq::Payload());
  }
  expect_code(lq::Code::closed, [&] { (void)f.get(); });
}

TEST(Offline, WaitForGivesUpWithNullopt) {
  lq::Client c("c1", offline_client(60s));
  EXPECT_FALSE(c.wait_for("ds", "j1", 100ms).has_value());
  EXPECT_FALSE(c.sync(100ms));
}

TEST(Offline, BadArgumentsAreRefusedUpFront) {
  expect_code(lq::Code::bad_request, [] { lq::Client c("", offline_client(1s)); });
  expect_code(lq::Code::bad_request, [] { lq::Client c(std::string("a\0b", 3), offline_client(1s)); });
  lq::ClientOptions bad = offline_client(1s);
  bad.router = "nonsense://";
  expect_code(lq::Code::transport, [&] { lq::Client c("c1", bad); });
}

TEST(Offline, RetryLaterCodes) {
  EXPECT_EQ(lq::to_string(lq::Code::queue_full), "queue_full");
  EXPECT_EQ(lq::to_string(lq::Code::rate_limited), "rate_limited");
  EXPECT_EQ(static_cast<int>(lq::Code::queue_full), 301);
  EXPECT_EQ(static_cast<int>(lq::Code::rate_limited), 302);
  EXPECT_TRUE(lq::is_retryable(lq::Code::queue_full));
  EXPECT_TRUE(lq::is_retryable(lq::Code::rate_limited));
  EXPECT_TRUE(lq::is_retryable(static_cast<lq::Code>(399)));
  EXPECT_FALSE(lq::is_retryable(lq::Code::conflict));
  EXPECT_TRUE(lq::Error(lq::Code::rate_limited, "slow down").retryable());
}

TEST(Offline, WorkerDequeueTimesOutAfterWaitPlusTimeout) {
  lq::WorkerOptions o;
  o.router = dead_endpoint();
  o.requests_pub = dead_endpoint();
  o.timeout = 200ms;
  lq::Worker w("ds", o);
  const auto t0 = std::chrono::steady_clock::now();
  expect_code(lq::Code::timeout, [&] { (void)w.dequeue(1, 300ms); });
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 450ms);
  expect_code(lq::Code::conflict, [&] { w.ack_success("never-leased"); });
  EXPECT_TRUE(w.held_jobs().empty());
}

TEST(Offline, WorkerArgumentsAreRefusedUpFront) {
  lq::WorkerOptions o;
  o.router = dead_endpoint();
  o.requests_pub = dead_endpoint();
  expect_code(lq::Code::bad_request, [&] { lq::Worker w("", o); });
  o.name = std::string(200, 'n');
  expect_code(lq::Code::too_large, [&] { lq::Worker w("ds", o); });
  o.name = "ok";
  o.lease = -1ms;
  expect_code(lq::Code::bad_request, [&] { lq::Worker w("ds", o); });
  o.lease.reset();
  lq::Worker w("ds", o);
  expect_code(lq::Code::bad_request, [&] { (void)w.dequeue(1, -5ms); });
}

}  // namespace
