// The command-line client's shared pieces: its exit codes, its one error
// type, the output format, and the helpers the commands share (reading
// bodies, parsing durations, talking to the broker, printing answers).
//
// Threads: the tool is single-threaded except inside watch/follow, where
// libclient calls back on its own I/O thread (see watch.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <ledgerq/credentials.hpp>

#include "broker_call.hpp"  // tools/common
#include "json.hpp"         // tools/common

namespace ledgerq::cli {

using tools::json;

/// Exit codes: a small, stable scheme scripts can rely on (README.md).
namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int failure = 1;       ///< an unexpected failure of the tool itself
inline constexpr int usage = 2;         ///< bad flags, arguments or JSON: nothing was sent
inline constexpr int not_found = 3;     ///< 404
inline constexpr int conflict = 4;      ///< 409
inline constexpr int forbidden = 5;     ///< 403
inline constexpr int bad_request = 6;   ///< any other 4xx (400, 413): fix the request
inline constexpr int retry_later = 7;   ///< 3xx (queue_full, rate_limited): nothing applied
inline constexpr int broker_error = 8;  ///< 5xx: nothing applied, retrying is safe
inline constexpr int no_broker = 9;     ///< no answer in time (no broker?), or a watch timed out
inline constexpr int job_not_complete = 10;  ///< watch: the job ended failed/cancelled/forbidden
}  // namespace exit_code

/// The exit code for a reply code (200 -> 0, 404 -> 3, ...), by class for
/// codes this build does not know (PROTOCOL.md §8.1).
int exit_for_code(unsigned code);

/// The one error of the tool: a message for stderr and the exit code.
struct Failure : std::runtime_error {
  Failure(int code, const std::string& message) : std::runtime_error(message), exit(code) {}
  int exit;
};

/// Usage error (exit 2).
[[noreturn]] void usage_error(const std::string& message);

enum class Format { as_json, as_text };

/// Global settings, from flags and environment variables.
struct Settings {
  std::string router = "tcp://127.0.0.1:5555";
  std::string status_pub = "tcp://127.0.0.1:5556";
  std::string requests_pub = "tcp://127.0.0.1:5557";
  std::string client = "ledgerq-cli";
  std::optional<std::chrono::milliseconds> timeout;  ///< --timeout: give up after this
  Format format = Format::as_json;
  bool stdout_is_tty = false;
  /// CURVE keys (--server-key with --secret-key, or their environment
  /// variables): a broker in secure mode. nullopt: plain mode.
  std::optional<ledgerq::client::Credentials> credentials;
  /// The wait for one answer: --timeout, else 10 s.
  std::chrono::milliseconds reply_timeout() const { return timeout.value_or(std::chrono::seconds(10)); }
};

// --- input --------------------------------------------------------------------

/// A JSON value from `arg`: "-" reads stdin, "@path" reads a file, anything
/// else is the JSON text itself. `what` names the flag in messages. Throws
/// Failure(usage) with the parser's position for bad JSON or an unreadable file.
json read_json_arg(const std::string& arg, std::string_view what);
/// This machine's clock, µs since the Unix epoch.
std::uint64_t now_micros();

// --- the broker -----------------------------------------------------------------

/// One answer from the broker (tools/common/broker_call.hpp).
using tools::Answer;

/// The tools' connection to the broker (tools/common), with its errors as
/// this tool's Failures. One request at a time.
class Connection {
 public:
  Connection(const Settings& settings);
  /// Builds a command from its wire name and JSON fields (as PROTOCOL.md §6
  /// names them), sends it and waits for its reply. Throws Failure(usage)
  /// when the fields do not make a command (nothing is sent),
  /// Failure(no_broker) when no reply comes in time, Failure(failure) for a
  /// reply that cannot be read.
  Answer call(std::string_view command, const json& fields);

 private:
  tools::Connection conn_;
};

/// An answer that must be ok: throws Failure(exit_for_code) with
/// "<command>: <name> (<code>): <message>" otherwise.
const Answer& require_ok(const Answer& a, std::string_view command);

// --- output ---------------------------------------------------------------------

/// `j` as JSON text (compact, or indented by `indent`). Strings need not be
/// UTF-8 (ids and bodies are byte strings, PROTOCOL.md §4): a byte that is
/// not UTF-8 is written as U+FFFD rather than throwing, which would end the
/// tool over one job's bytes. Use it for every dump of what the broker sent.
std::string json_text(const json& j, int indent = -1);
/// Prints a JSON value: one compact line when stdout is not a terminal,
/// indented when it is.
void print_json(const json& j, const Settings& s);
/// Prints an object as readable text: its scalar fields as aligned
/// "key  value" lines (times as UTC dates, nested objects flattened with
/// dots), and each array of objects as a table. Generic over keys, so new
/// fields of a newer broker are shown too.
void print_text(const json& j);
/// One line of text for a status record (watch).
std::string record_line(const json& record);
/// print_json or print_text, by the format.
void print(const json& j, const Settings& s);

}  // namespace ledgerq::cli
