// Error, Code and JobStatus helpers.
#include "ledgerq/error.hpp"
#include "ledgerq/types.hpp"

#include "codec/messages.hpp"

#include <array>

namespace ledgerq::client {

std::string_view to_string(Code code) noexcept {
  switch (code) {
    case Code::timeout: return "timeout";
    case Code::transport: return "transport";
    case Code::closed: return "closed";
    default: return ::ledgerq::code_name(static_cast<::ledgerq::Code>(code));  // the protocol's own names
  }
}

bool is_retryable(Code code) noexcept {
  const auto n = static_cast<std::uint16_t>(code);
  return (n >= 300 && n < 400) || (n >= 500 && n < 600) || code == Code::timeout || code == Code::transport;
}

namespace {
std::string describe(Code code, const std::string& message) {
  std::string s(to_string(code));
  s += " (" + std::to_string(static_cast<std::uint16_t>(code)) + ")";
  if (!message.empty()) s += ": " + message;
  return s;
}

constexpr std::array<std::string_view, 7> kStatusNames = {
    "submitted", "accepted", "complete", "cancelled", "forbidden", "failed", "retrying"};
}  // namespace

Error::Error(Code code, std::string message)
    : std::runtime_error(describe(code, message)), code_(code), message_(std::move(message)) {}

std::string_view to_string(JobStatus status) noexcept {
  const auto i = static_cast<std::size_t>(status);
  return i < kStatusNames.size() ? kStatusNames[i] : std::string_view("unknown");
}

std::optional<JobStatus> parse_job_status(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kStatusNames.size(); ++i)
    if (kStatusNames[i] == name) return static_cast<JobStatus>(i);
  return std::nullopt;
}

bool is_terminal(JobStatus status) noexcept {
  return status == JobStatus::complete || status == JobStatus::cancelled || status == JobStatus::forbidden ||
         status == JobStatus::failed;
}

}  // namespace ledgerq::client
