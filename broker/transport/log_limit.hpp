// Warnings a peer can cause (a stale fencing token, say) are worth a log
// line, but a peer that repeats them must not fill the disk: each peer gets
// a few lines per window, then its lines are counted, and the count is
// logged once when the window closes.
//
// Threads: the broker's loop thread only.
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace ledgerq::transport {

class LogLimit {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::uint32_t kLinesPerWindow = 10;
  static constexpr auto kWindow = std::chrono::seconds(10);

  /// Logs `line` as a warning unless `peer` (a name fit for the log) spent
  /// its lines in this window.
  void warn(std::string_view peer, std::string_view line, Clock::time_point now = Clock::now()) {
    roll(now);
    auto& n = lines_[std::string(peer)];
    if (++n <= kLinesPerWindow) spdlog::warn("{} (from {})", line, peer);
  }

  /// Closes the window when it is over: one line per peer that was cut
  /// short. Call it now and then (the loop does, every turn).
  void roll(Clock::time_point now = Clock::now()) {
    if (now - opened_ < kWindow) return;
    for (const auto& [peer, n] : lines_)
      if (n > kLinesPerWindow)
        spdlog::warn("{} more warnings from {} suppressed in the last {} s", n - kLinesPerWindow, peer,
                     std::chrono::duration_cast<std::chrono::seconds>(now - opened_).count());
    lines_.clear();  // bounded by the peers active in one window
    opened_ = now;
  }

 private:
  std::map<std::string, std::uint32_t, std::less<>> lines_;
  Clock::time_point opened_ = Clock::now();
};

}  // namespace ledgerq::transport
