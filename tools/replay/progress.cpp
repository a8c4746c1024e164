#include "progress.hpp"

#include <algorithm>
#include <cstdio>

namespace ledgerq::replay {

void Progress::update(double fraction, std::uint64_t items) {
  if (!enabled_) return;
  using namespace std::chrono;
  const auto now = steady_clock::now();
  if (now - start_ < milliseconds(500) || now - last_draw_ < milliseconds(100)) return;
  last_draw_ = now;
  fraction = std::clamp(fraction, 0.0, 1.0);
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.append(static_cast<std::size_t>(kWidth - filled), '.');
  std::fprintf(stderr, "\r\033[K%s [%s] %3d%%  %llu entries", label_.c_str(), bar.c_str(),
               static_cast<int>(fraction * 100), static_cast<unsigned long long>(items));
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::done() {
  if (!drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace ledgerq::replay
