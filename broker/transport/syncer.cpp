#include "syncer.hpp"

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

namespace ledgerq::transport {

void die_of_storage(const std::exception& e) {
  spdlog::critical("storage failed beyond repair, stopping at once: {}", e.what());
  spdlog::shutdown();
  std::abort();
}

void die_of_corruption(const std::exception& e) {
  spdlog::critical("the store is corrupt, stopping before writing on: {} (ledgerq-replay --verify; restore a copy)",
                   e.what());
  spdlog::shutdown();
  std::_Exit(3);
}

Syncer::Syncer(std::function<void()> flush) : flush_(std::move(flush)) {
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (event_fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  thread_ = std::thread([this] { run(); });
}

Syncer::~Syncer() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
  ::close(event_fd_);
}

void Syncer::request(std::uint64_t generation) {
  {
    std::lock_guard lock(mutex_);
    requested_ = generation;
  }
  wake_.notify_one();
}

void Syncer::clear() {
  std::uint64_t n = 0;
  while (::read(event_fd_, &n, sizeof n) > 0) {
  }
}

void Syncer::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || requested_ > durable_.load(std::memory_order_relaxed); });
    const std::uint64_t target = requested_;
    if (target <= durable_.load(std::memory_order_relaxed)) return;  // stopping, nothing asked
    lock.unlock();
    const auto start = std::chrono::steady_clock::now();
    try {
      flush_();  // covers every record appended before `target` was asked for
    } catch (const std::exception& e) {
      die_of_storage(e);  // nobody can say what reached the disk: see Env::sync_meta
    }
    const auto took = std::chrono::steady_clock::now() - start;
    last_us_.store(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(took).count()),
                   std::memory_order_relaxed);
    durable_.store(target, std::memory_order_release);
    const std::uint64_t one = 1;
    (void)!::write(event_fd_, &one, sizeof one);
    lock.lock();
  }
}

}  // namespace ledgerq::transport
