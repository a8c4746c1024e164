// Decoding what the store holds: a stored value that does not decode means
// the store is corrupt or of a format this build does not read. That is a
// CorruptStore exception, never a reply code: the broker stops at once
// rather than write on a store it cannot read.
#pragma once

#include <stdexcept>
#include <string>

#include "codec/result.hpp"

namespace ledgerq::domain {

/// A stored value that does not decode.
struct CorruptStore : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class T> T must(Result<T> r, const char* what) {
  if (!r) throw CorruptStore(std::string("corrupt store: ") + what + ": " + r.error().message);
  return std::move(r).value();
}

}  // namespace ledgerq::domain
