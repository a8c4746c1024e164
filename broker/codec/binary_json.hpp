// The JSON form of msgpack `bin` (PROTOCOL.md §4, "JSON form of a body"):
// {"$bin": "<hex>"}, lowercase when written, either case when read. JSON has
// no byte strings, so tools and bindings that show bodies as JSON write and
// read a bin this way. The one C++ implementation, beside the codec that
// every side links, and header-only so that the codec itself needs no JSON
// library: the tools (tools/common/json.cpp) and libclient (Payload::to_json
// and from_json) both use it.
//
// Works on any nlohmann::basic_json (the tools keep map order with
// ordered_json; libclient uses json). Pure functions; any thread.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ledgerq::binary_json {

inline constexpr const char* kKey = "$bin";

/// `bytes` as lowercase hex.
inline std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

/// The bytes of hex text (either case); throws std::invalid_argument for an
/// odd length or a character that is not a hex digit.
inline std::vector<std::uint8_t> from_hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::invalid_argument("\"$bin\" must be hex digits, two per byte");
  };
  if (hex.size() % 2) throw std::invalid_argument("\"$bin\" must be hex digits, two per byte");
  std::vector<std::uint8_t> out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  return out;
}

/// True for the JSON form of a bin: an object with the one key "$bin" whose
/// value is a string.
template <class Json> bool is_bin_form(const Json& j) {
  return j.is_object() && j.size() == 1 && j.contains(kKey) && j[kKey].is_string();
}

/// `j` (as nlohmann reads msgpack: bin is a "binary" value) with every
/// binary value, at any depth, written {"$bin": hex}. Throws
/// std::invalid_argument for an ext (a binary with a subtype): it has no
/// JSON form.
template <class Json> Json show(const Json& j) {
  if (j.is_binary()) {
    const auto& b = j.get_binary();
    if (b.has_subtype()) throw std::invalid_argument("a msgpack ext has no JSON form");
    return Json{{kKey, to_hex(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()))}};
  }
  if (j.is_array()) {
    Json a = Json::array();
    for (const auto& e : j) a.push_back(show(e));
    return a;
  }
  if (j.is_object()) {
    Json o = Json::object();
    for (auto it = j.begin(); it != j.end(); ++it) o[it.key()] = show(it.value());
    return o;
  }
  return j;
}

/// The reverse of show: every {"$bin": hex} becomes a binary value (which
/// nlohmann writes as msgpack bin). Throws std::invalid_argument for a
/// "$bin" that is not hex.
template <class Json> Json hide(const Json& j) {
  if (is_bin_form(j)) return Json::binary(from_hex(j[kKey].template get<std::string>()));
  if (j.is_array()) {
    Json a = Json::array();
    for (const auto& e : j) a.push_back(hide(e));
    return a;
  }
  if (j.is_object()) {
    Json o = Json::object();
    for (auto it = j.begin(); it != j.end(); ++it) o[it.key()] = hide(it.value());
    return o;
  }
  return j;
}

}  // namespace ledgerq::binary_json
