// Payload: a job's request or response body. The broker treats bodies as
// opaque msgpack values; a Payload keeps one as its encoded bytes and offers
// conversions so that callers never touch msgpack themselves.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "ledgerq/export.hpp"

namespace ledgerq::client {

/// One msgpack value, kept as its canonical encoding (the smallest integer
/// widths; the same bytes the broker stores and hands back). Cheap to copy
/// for small bodies; a value type with no shared state, so distinct Payloads
/// may be used from distinct threads freely.
///
/// Constructors validate: a body over 1 MiB encoded throws Error(too_large),
/// bytes that are not exactly one msgpack value throw Error(bad_request).
class LEDGERQ_CLIENT_API Payload {
 public:
  /// The nil value (what a job without a body carries).
  Payload();

  /// A msgpack `bin` holding `bytes` (any octets).
  static Payload from_bytes(std::string_view bytes);
  /// A msgpack `str` holding `text` (UTF-8 is the caller's promise; not checked).
  static Payload from_text(std::string_view text);
  /// The msgpack form of a JSON document (objects become maps, and so on;
  /// {"$bin": "<hex>"} becomes a `bin`, PROTOCOL.md §4). Throws
  /// Error(bad_request) if `json` does not parse or a "$bin" is not hex.
  static Payload from_json(std::string_view json);
  /// Takes already-encoded msgpack: exactly one value, re-encoded canonically.
  static Payload from_msgpack(std::string_view raw);

  /// True when the value is nil.
  [[nodiscard]] bool is_nil() const noexcept;
  /// True when the value is a msgpack `bin` (as made by from_bytes).
  [[nodiscard]] bool is_bytes() const;
  /// True when the value is a msgpack `str` (as made by from_text).
  [[nodiscard]] bool is_text() const;

  /// The octets of a `bin` value. Throws Error(bad_request) for another type.
  [[nodiscard]] std::string as_bytes() const;
  /// The text of a `str` value. Throws Error(bad_request) for another type.
  [[nodiscard]] std::string as_text() const;
  /// The value as compact JSON text, map keys sorted. A `bin` value appears
  /// as {"$bin": "<lowercase hex>"} (PROTOCOL.md §4), which from_json reads
  /// back. Throws Error(bad_request) for values JSON cannot hold (maps with
  /// non-string keys, ext).
  [[nodiscard]] std::string to_json() const;
  /// The canonical msgpack encoding (never empty: nil is "\xc0").
  [[nodiscard]] const std::string& msgpack() const noexcept { return bytes_; }

  /// Equal when the canonical encodings are equal byte for byte (the rule the
  /// broker uses to tell a duplicate submit from a conflicting one).
  friend bool operator==(const Payload& a, const Payload& b) noexcept { return a.bytes_ == b.bytes_; }
  friend bool operator!=(const Payload& a, const Payload& b) noexcept { return !(a == b); }

 private:
  explicit Payload(std::string canonical) : bytes_(std::move(canonical)) {}
  std::string bytes_;
};

}  // namespace ledgerq::client
