// The long-running commands (watch.cpp), called from main.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli.hpp"

namespace ledgerq::cli {

struct WatchArgs {
  std::string datasource;          ///< "" = every datasource (client watch only)
  std::string job;                 ///< "" = every job of the client
  std::vector<std::string> until;  ///< statuses or "terminal"; empty = terminal
  std::optional<std::uint64_t> from;  ///< client watch: start after this seq (0: all history)
  std::uint64_t count = 0;         ///< client watch: stop after this many notices (0: never)
};

struct FollowArgs {
  std::string datasource;
  std::optional<std::uint64_t> from;  ///< first timestamp (µs); default: the broker's now
  std::uint64_t count = 0;            ///< stop after this many entries (0: never)
};

/// Prints a job's record and then each change until --until (exit 0, or 10
/// when it ended failed/cancelled/forbidden unasked), or a client's notices.
int run_watch(const Settings& s, const WatchArgs& a);
/// Prints a datasource's request entries (submits, cancels) as they come.
int run_follow(const Settings& s, const FollowArgs& a);

}  // namespace ledgerq::cli
