// Names of the protocol's enumerations, as they appear on the wire.
#include "messages.hpp"

#include <array>

#include "statuses.hpp"

namespace ledgerq {

std::string_view code_name(Code c) noexcept {
  switch (c) {
    case Code::ok: return "ok";
    case Code::queue_full: return "queue_full";
    case Code::rate_limited: return "rate_limited";
    case Code::bad_request: return "bad_request";
    case Code::forbidden: return "forbidden";
    case Code::not_found: return "not_found";
    case Code::conflict: return "conflict";
    case Code::too_large: return "too_large";
    case Code::internal: return "internal";
  }
  return "unknown";
}

namespace {

constexpr std::array<std::string_view, 7> kStatusNames = {
    "submitted", "accepted", "complete", "cancelled", "forbidden", "failed", "retrying"};
constexpr std::array<std::string_view, 14> kEventNames = {
    "ds_create", "ds_delete", "submit", "cancel", "status", "ds_configure", "lease",
    "ack", "checkpoint", "expire", "retry", "gc", "remove", "purge"};
static_assert(kStatusNames.size() == kJobStatuses.size(), "a JobStatus without a name, or missing from kJobStatuses");
}  // namespace

std::string_view status_name(JobStatus s) noexcept { return kStatusNames[static_cast<std::size_t>(s)]; }

std::optional<JobStatus> parse_status(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kStatusNames.size(); ++i)
    if (kStatusNames[i] == name) return static_cast<JobStatus>(i);
  return std::nullopt;
}

bool is_terminal(JobStatus s) noexcept {
  return s == JobStatus::complete || s == JobStatus::cancelled || s == JobStatus::forbidden ||
         s == JobStatus::failed;
}

std::string_view event_type_name(EventType t) noexcept { return kEventNames[static_cast<std::size_t>(t)]; }

std::optional<EventType> parse_event_type(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kEventNames.size(); ++i)
    if (kEventNames[i] == name) return static_cast<EventType>(i);
  return std::nullopt;
}


}  // namespace ledgerq
