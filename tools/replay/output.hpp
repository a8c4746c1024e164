// How an entry is printed: one JSON object per line (for programs), or an
// aligned line of text (for people at a terminal).
#pragma once

#include <cstdio>
#include <string>

#include "codec/messages.hpp"

namespace ledgerq::replay {

enum class Format { json, text };

class Printer {
 public:
  Printer(Format f, std::FILE* out) : format_(f), out_(out) {}
  /// One log entry: its key `ts` and decoded event.
  void entry(Micros ts, const Event& e);
  /// The same entry as a line, without the newline (for tests and entry()).
  std::string line(Micros ts, const Event& e);
  void flush() { std::fflush(out_); }

 private:
  Format format_;
  std::FILE* out_;
  std::size_t ds_width_ = 10, job_width_ = 12;  ///< text columns grow to the widest seen
};

}  // namespace ledgerq::replay
