// Decoding what the store holds: a stored value that does not decode means
// the store is corrupt or of a format this build does not read. That is an
// exception (the command fails with 500 and is logged), never a reply code.
#pragma once

#include <stdexcept>
#include <string>

#include "codec/result.hpp"

namespace ledgerq::domain {

template <class T> T must(Result<T> r, const char* what) {
  if (!r) throw std::runtime_error(std::string("corrupt store: ") + what + ": " + r.error().message);
  return std::move(r).value();
}

}  // namespace ledgerq::domain
