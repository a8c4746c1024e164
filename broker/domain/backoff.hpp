// Retry delays: exponential backoff with jitter and a cap. Deterministic
// (the jitter is a hash of the job and the attempt), so the same failure
// always leads to the same run_after and tests need no randomness.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "codec/messages.hpp"
#include "digest.hpp"

namespace ledgerq::domain {

inline constexpr std::uint32_t kDefaultLeaseMs = 30'000;
inline constexpr std::uint32_t kDefaultRetryBaseMs = 1'000;
inline constexpr std::uint32_t kDefaultRetryCapMs = 300'000;

/// The delay before attempt `attempts_made + 1`, in microseconds: base *
/// 2^(attempts_made - 1), capped, then drawn from [delay/2, delay] ("equal
/// jitter") so that jobs failing together do not retry together.
inline Micros backoff_us(const DsOptions& o, std::string_view job, std::uint32_t attempts_made) {
  const std::uint64_t base = o.retry_base_ms ? o.retry_base_ms : kDefaultRetryBaseMs;
  const std::uint64_t cap = o.retry_cap_ms ? o.retry_cap_ms : kDefaultRetryCapMs;
  const std::uint32_t doublings = std::min<std::uint32_t>(attempts_made > 0 ? attempts_made - 1 : 0, 40);
  const std::uint64_t delay_ms = std::min<std::uint64_t>(cap, base << std::min<std::uint32_t>(doublings, 31));
  const std::uint64_t half = delay_ms * 500;  // microseconds
  const std::uint64_t h = fnv1a(job, 0x9e3779b97f4a7c15ull ^ attempts_made);
  return half + (half == 0 ? 0 : h % (half + 1));
}

inline Micros lease_us(const DsOptions& o, std::optional<std::uint32_t> asked_ms) {
  const std::uint64_t ms = asked_ms ? *asked_ms : (o.lease_ms ? o.lease_ms : kDefaultLeaseMs);
  return ms * 1000;
}

}  // namespace ledgerq::domain
