// What main.cpp shares with the files of other commands: the helpers
// every command uses, the long-running commands (watch.cpp) and the worker
// commands (work.cpp).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli.hpp"

namespace ledgerq::cli {

// --- helpers (main.cpp) -----------------------------------------------------------

/// A duration as every ledgerq program reads one (codec/time_text.hpp:
/// 250ms, 30s, 1h30m, 1.5s; a bare number is seconds), in milliseconds.
/// Failure(usage) naming `what` otherwise.
std::uint64_t duration_ms(const std::string& text, const std::string& what);
/// True when the option was given on the command line.
bool given(const CLI::Option* o);
/// A subcommand of `parent` with its one-line description and an example.
CLI::App* add_command(CLI::App* parent, const std::string& name, const std::string& desc, const std::string& example);
/// Each subcommand and what it does when parsed; returns the exit code.
using Actions = std::vector<std::pair<CLI::App*, std::function<int()>>>;

/// Sends one command on a new connection; its fields when ok, else throws
/// require_ok's Failure.
json call_ok(const Settings& s, std::string_view command, const json& fields);
/// The items of `out[list]` each carry a code (submit_batch's results, an
/// ack's, a dequeue's acks): throws Failure with the first refused item's
/// exit code, saying how many were refused.
void check_items(const json& out, std::string_view command, const char* list);
/// Sends a command whose reply carries a code per item, prints the reply
/// whole and exits with the first refused item's code (check_items).
int itemized(const Settings& s, std::string_view command, const json& fields, const char* list);

// --- watch.cpp --------------------------------------------------------------------

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

// --- work.cpp ---------------------------------------------------------------------

/// Registers `dequeue`, `ack` and `work` (the commands of a worker) on `app`.
/// `s` is read when a command runs, after the global flags are parsed.
void add_worker_commands(CLI::App& app, const Settings& s, Actions& actions);

}  // namespace ledgerq::cli
