// Stable hashes for what must be compared or spread without randomness:
// tombstone digests of request bodies, and retry jitter. Pure functions,
// the same on every run and machine (unlike std::hash).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ledgerq::domain {

/// 64-bit FNV-1a with a chosen offset basis.
constexpr std::uint64_t fnv1a(std::string_view s, std::uint64_t basis = 0xcbf29ce484222325ull) {
  std::uint64_t h = basis;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

/// 128 bits as 32 hex digits: two FNV-1a passes with different bases. Not
/// cryptographic: it tells an honest resubmit from a different body.
inline std::string digest(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (std::uint64_t h : {fnv1a(s), fnv1a(s, 0x84222325cbf29ce4ull)})
    for (int i = 60; i >= 0; i -= 4) out.push_back(hex[(h >> i) & 15]);
  return out;
}

}  // namespace ledgerq::domain
