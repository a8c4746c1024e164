// A one-line progress bar on stderr for long scans. Draws nothing unless
// enabled (stderr is a terminal and the user did not opt out) and the scan
// has run for half a second; redraws at most ten times a second; erases
// itself when done, so the terminal is left as it was.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ledgerq::replay {

class Progress {
 public:
  explicit Progress(bool enabled, std::string label)
      : enabled_(enabled), label_(std::move(label)), start_(std::chrono::steady_clock::now()) {}
  ~Progress() { done(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// `fraction` in [0, 1]; `items` is shown beside it.
  void update(double fraction, std::uint64_t items);
  /// Erases the bar (idempotent).
  void done();

 private:
  bool enabled_;
  bool drawn_ = false;
  std::string label_;
  std::chrono::steady_clock::time_point start_, last_draw_{};
};

}  // namespace ledgerq::replay
