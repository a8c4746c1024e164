#include "map_watch.hpp"

#include <spdlog/spdlog.h>

namespace ledgerq::transport {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

}  // namespace

void MapWatch::grew(const char* why) {
  const auto m = env_.map_usage();
  spdlog::info("map grew to {:.0f} MiB ({}); {:.0f} MiB in use, at most {:.0f} MiB", m.size / kMiB, why,
               m.used / kMiB, m.limit / kMiB);
}

void MapWatch::before_turn(const std::function<void()>& close) {
  try {
    // One look at LMDB's env info a turn; grow() looks again only when due.
    const auto e = env_.map_extent();
    if (e.used > e.size / 4 * 3 && env_.map_usage().limit > e.size) {  // at the limit: no need to close
      close();
      if (env_.grow()) grew("3/4 was in use");
    }
    if (e.used > checked_used_ + step_ || e.used + step_ < checked_used_) check();
  } catch (const storage::LmdbError& e) {
    if (e.fatal()) throw;  // the map is gone: the broker must end
    spdlog::error("the map could not grow: {}", e.what());
  }
}

bool MapWatch::after_map_full() {
  try {
    if (env_.grow(true)) {
      grew("a commit met MDB_MAP_FULL");
      return true;
    }
  } catch (const storage::LmdbError& e) {
    if (e.fatal()) throw;
    spdlog::error("the map could not grow: {}", e.what());
    return false;
  }
  const auto now = std::chrono::steady_clock::now();
  if (full_logged_ != std::chrono::steady_clock::time_point{} && now - full_logged_ < kFullEvery) {
    ++full_unlogged_;
    return false;
  }
  const auto m = env_.map_usage();
  spdlog::critical("the store is full: {:.0f} MiB in use and the map cannot grow past {:.0f} MiB ({}); writes "
                   "are refused until retention frees pages, --map-max is raised or the disk has room{}",
                   m.used / kMiB, m.limit / kMiB, "--map-max or the disk's free space",
                   full_unlogged_ ? fmt::format(" ({} more refused turns since the last such line)", full_unlogged_)
                                  : std::string());
  full_logged_ = now;
  full_unlogged_ = 0;
  return false;
}

void MapWatch::check() {
  const auto m = env_.map_usage();
  checked_used_ = m.used;
  step_ = m.limit / 100;
  if (m.limit == 0) return;
  const double share = static_cast<double>(m.used) / static_cast<double>(m.limit);
  // Hysteresis: a level falls only 5 points below where it rose.
  int level = level_;
  if (share >= 0.95) level = 2;
  else if (share >= 0.80 && level_ < 1) level = 1;
  else if (level_ == 2 && share < 0.90) level = share >= 0.80 ? 1 : 0;
  else if (level_ == 1 && share < 0.75) level = 0;
  if (level == level_) return;
  const int before = level_;
  level_ = level;
  const auto used = m.used / kMiB, limit = m.limit / kMiB;
  if (level > before && level == 2)
    spdlog::error("the store uses {:.0f} MiB of the {:.0f} MiB it can grow to ({:.0f}%): it will refuse writes "
                  "when full; lower retention, raise --map-max or free disk space",
                  used, limit, share * 100);
  else if (level > before)
    spdlog::warn("the store uses {:.0f} MiB of the {:.0f} MiB it can grow to ({:.0f}%)", used, limit, share * 100);
  else
    spdlog::info("the store is back to {:.0f} MiB of the {:.0f} MiB it can grow to ({:.0f}%)", used, limit,
                 share * 100);
}

}  // namespace ledgerq::transport
