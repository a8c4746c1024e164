// Shared helpers of the client suites: a broker fixture and a thread-safe
// collector that tests wait on (conditions, never sleeps).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ledgerq/ledgerq.hpp"

#ifdef LEDGERQ_BROKER_PATH
#include "broker_process.hpp"
#endif

namespace lqt {

using namespace std::chrono_literals;
namespace lq = ledgerq::client;

/// Values pushed from callbacks (I/O threads), awaited by the test thread.
/// Declare it before the Client/Driver whose callback pushes to it, so that
/// it outlives their I/O threads.
template <class T> class Collector {
 public:
  /// Notifies under the lock, so a waiter that returns may destroy the
  /// collector at once.
  void push(T v) {
    std::lock_guard lk(m_);
    items_.push_back(std::move(v));
    cv_.notify_all();
  }
  /// Waits until at least n items arrived; false after `timeout`.
  bool wait_size(std::size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lk(m_);
    return cv_.wait_for(lk, timeout, [&] { return items_.size() >= n; });
  }
  /// Waits until some item satisfies `pred`.
  bool wait_any(const std::function<bool(const T&)>& pred, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lk(m_);
    return cv_.wait_for(lk, timeout, [&] {
      for (const auto& v : items_)
        if (pred(v)) return true;
      return false;
    });
  }
  std::vector<T> items() const {
    std::lock_guard lk(m_);
    return items_;
  }
  std::size_t size() const {
    std::lock_guard lk(m_);
    return items_.size();
  }

 private:
  mutable std::mutex m_;
  std::condition_variable cv_;
  std::vector<T> items_;
};

#ifdef LEDGERQ_BROKER_PATH
/// One fresh broker per test.
class BrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = std::make_unique<ledgerq::testing::BrokerProcess>(dir_.path(),
                                                                std::vector<std::string>{"--sync", "none"});
  }

  lq::ClientOptions client_options(std::function<void(const lq::StatusNotice&)> on_notice = {}) const {
    lq::ClientOptions o;
    o.router = broker_->router();
    o.status_pub = broker_->status_pub();
    o.timeout = 5s;
    o.on_notice = std::move(on_notice);
    return o;
  }

  lq::DriverOptions driver_options() const {
    lq::DriverOptions o;
    o.router = broker_->router();
    o.requests_pub = broker_->requests_pub();
    o.timeout = 5s;
    return o;
  }

  lq::WorkerOptions worker_options(std::string name = {}) const {
    lq::WorkerOptions o;
    o.router = broker_->router();
    o.requests_pub = broker_->requests_pub();
    o.timeout = 5s;
    o.name = std::move(name);
    return o;
  }

  ledgerq::testing::TempDir dir_;
  std::unique_ptr<ledgerq::testing::BrokerProcess> broker_;
};
#endif

/// Polls `cond` every 10 ms until it holds; false after `timeout`. For
/// conditions that only a query can observe (a lease that ran out on the
/// broker's clock); it waits on the condition, never for a fixed time.
template <class F> bool eventually(F&& cond, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

/// Runs `f`, expecting it to throw lq::Error with `code`.
template <class F> void expect_code(lq::Code code, F&& f) {
  try {
    f();
    ADD_FAILURE() << "expected Error " << lq::to_string(code) << ", nothing thrown";
  } catch (const lq::Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
  }
}

}  // namespace lqt
