// The one error model of libledgerq_client.
//
// Every failure a call can report is a ledgerq::client::Error exception
// carrying a Code:
//   - a broker answer other than ok (301..500): the command was refused or
//     failed on the broker; the code is the protocol's, the message is the
//     broker's own text;
//   - timeout / transport / closed (1000+): the broker never answered, or its
//     answer could not be read, or the Client/Driver went away first. These
//     never come from the broker itself.
// A blocking wait that runs out of time is not an error: it returns an empty
// std::optional (as cppzmq does for EAGAIN).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "ledgerq/export.hpp"

namespace ledgerq::client {

/// Outcome codes. 2xx..5xx mirror the protocol's reply codes (their class
/// carries retry meaning, as in 9/TSP); 1000 and up are local to this library.
/// A code the library does not know (a newer broker) keeps its number.
enum class Code : std::uint16_t {
  ok = 200,
  queue_full = 301,    ///< the datasource holds its max_pending jobs: submit later
  rate_limited = 302,  ///< the datasource's dequeue rate is spent: dequeue later
                       ///< (nothing was applied, piggybacked acks included)
  bad_request = 400,  ///< malformed command, bad id or datasource name: fix, don't retry
  forbidden = 403,    ///< the job belongs to another client
  not_found = 404,    ///< no such datasource or job
  conflict = 409,     ///< same job id with another body; illegal status transition;
                      ///< a stale lease (the worker no longer holds the job)
  too_large = 413,    ///< a body or field over its limit (bodies: 1 MiB encoded)
  internal = 500,     ///< the broker failed and applied nothing: retrying is safe

  timeout = 1000,     ///< no reply within the request timeout. The command may or
                      ///< may not have been applied; every command is idempotent,
                      ///< so retrying is safe.
  transport = 1001,   ///< a ZeroMQ failure, or a reply this library cannot read
                      ///< (wrong signature/version, malformed msgpack)
  closed = 1002,      ///< the Client/Driver was destroyed before the reply came
};

/// The stable lower-case name of a code ("not_found", "timeout", ...);
/// "unknown" for a number this library does not know.
LEDGERQ_CLIENT_API std::string_view to_string(Code code) noexcept;

/// True for codes after which retrying the same call unchanged may succeed:
/// retry-later answers (3xx: queue_full, rate_limited), internal (5xx),
/// timeout and transport.
LEDGERQ_CLIENT_API bool is_retryable(Code code) noexcept;

/// The exception every libledgerq_client call throws for a failed operation.
/// what() reads "not_found (404): no such job 'j1'"; message() is the text
/// alone (the broker's, for codes below 1000).
class LEDGERQ_CLIENT_API Error : public std::runtime_error {
 public:
  Error(Code code, std::string message);

  /// The outcome code; never Code::ok.
  [[nodiscard]] Code code() const noexcept { return code_; }
  /// The human-readable text without the code prefix.
  [[nodiscard]] const std::string& message() const noexcept { return message_; }
  /// Shorthand for is_retryable(code()).
  [[nodiscard]] bool retryable() const noexcept { return is_retryable(code_); }

 private:
  Code code_;
  std::string message_;
};

}  // namespace ledgerq::client
