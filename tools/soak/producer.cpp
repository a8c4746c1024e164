#include "producer.hpp"

#include <chrono>
#include <cstdio>
#include <ledgerq/ledgerq.hpp>
#include <random>

namespace ledgerq::soak {

namespace lq = ledgerq::client;
using Clock = std::chrono::steady_clock;

Producers::Producers(const Options& options, Endpoints endpoints)
    : options_(options), endpoints_(std::move(endpoints)) {
  running_ = options_.producers;
  for (int i = 0; i < options_.producers; ++i)
    threads_.emplace_back(&Producers::run, this, i, options_.seed * 7919 + static_cast<std::uint64_t>(i));
}

Producers::~Producers() { stop(); }

void Producers::stop() {
  stop_ = true;
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void Producers::run(int index, std::uint64_t seed) {
  lq::ClientOptions o;
  o.router = endpoints_.router;
  o.status_pub = endpoints_.status_pub;
  o.timeout = std::chrono::milliseconds(options_.timeout_ms);
  o.resync_interval = std::chrono::milliseconds(0);  // notices are not what this checks
  lq::Client client("soak-p" + std::to_string(index), o);
  std::mt19937_64 rng(seed);
  const auto period = options_.rate > 0 ? std::chrono::duration_cast<Clock::duration>(
                                              std::chrono::duration<double>(1.0 / options_.rate))
                                        : Clock::duration::zero();
  auto next = Clock::now();
  while (!stop_) {
    const std::uint64_t n = next_id_.fetch_add(1);
    if (options_.jobs > 0 && n >= options_.jobs) break;
    const std::string id = "j" + std::to_string(n);
    lq::JobOptions jo;
    // Every SIGKILLed worker and every lost dequeue costs its jobs an
    // attempt; with the default 2 a long soak would fail jobs that were
    // never refused. Check 1 wants every job to end complete.
    jo.attempts = 1'000'000;
    jo.priority = static_cast<std::uint8_t>(1 + rng() % 3);
    const auto body = lq::Payload::from_text("soak job " + id);
    bool repeated = false;
    for (;;) {
      try {
        (void)client.submit(kDatasource, id, body, jo);
        std::lock_guard lock(mutex_);
        tally_.acked.push_back(id);
        if (repeated) ++tally_.by_repeat;
        break;
      } catch (const lq::Error& e) {
        if (!e.retryable()) {
          std::fprintf(stderr, "ledgerq-soak: submit of %s refused: %s\n", id.c_str(), e.what());
          std::lock_guard lock(mutex_);
          ++tally_.refused;
          break;
        }
        {
          std::lock_guard lock(mutex_);
          if (e.code() == lq::Code::timeout) ++tally_.timeouts;
          if (stop_) {
            tally_.unknown.push_back(id);
            break;
          }
        }
        // The same id and body again: if the first reached the store, the
        // broker answers it as a duplicate; either way it is then acked.
        repeated = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    if (period > Clock::duration::zero()) {
      next += period;
      const auto now = Clock::now();
      if (next < now) next = now;  // behind (a broker restart): no burst to catch up
      while (!stop_ && Clock::now() < next)
        std::this_thread::sleep_for(std::min<Clock::duration>(next - Clock::now(), std::chrono::milliseconds(50)));
    }
  }
  --running_;
}

}  // namespace ledgerq::soak
