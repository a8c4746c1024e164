// Payload: body values. The protocol's codec checks and canonicalises the
// msgpack (codec::canonical_any); nlohmann::json converts to and from JSON,
// text and bytes. No msgpack is written by hand here.
#include "ledgerq/payload.hpp"

#include <nlohmann/json.hpp>

#include "codec/binary_json.hpp"
#include "codec/codec.hpp"
#include "ledgerq/error.hpp"

namespace ledgerq::client {

namespace {

using json = nlohmann::json;

std::string canonical(std::string_view raw) {
  auto a = codec::canonical_any(raw);
  if (!a) throw Error(static_cast<Code>(a.error().code), "payload: " + a.error().message);
  return std::move(a->msgpack);
}

std::string pack(const json& j) {
  std::string out;
  json::to_msgpack(j, out);
  return out;
}

json unpack(const std::string& bytes) {
  try {
    return json::from_msgpack(bytes, /*strict=*/true, /*allow_exceptions=*/true);
  } catch (const json::exception& e) {
    throw Error(Code::bad_request, std::string("payload has no JSON form: ") + e.what());
  }
}

}  // namespace

Payload::Payload() : bytes_("\xc0") {}

Payload Payload::from_bytes(std::string_view bytes) {
  return Payload(canonical(pack(json::binary(json::binary_t::container_type(bytes.begin(), bytes.end())))));
}

Payload Payload::from_text(std::string_view text) { return Payload(canonical(pack(json(std::string(text))))); }

Payload Payload::from_json(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Error(Code::bad_request, "payload: not valid JSON");
  try {
    return Payload(canonical(pack(binary_json::hide(j))));
  } catch (const std::invalid_argument& e) {
    throw Error(Code::bad_request, std::string("payload: ") + e.what());
  }
}

Payload Payload::from_msgpack(std::string_view raw) { return Payload(canonical(raw)); }

bool Payload::is_nil() const noexcept { return bytes_ == "\xc0"; }
bool Payload::is_bytes() const { return unpack(bytes_).is_binary(); }
bool Payload::is_text() const { return unpack(bytes_).is_string(); }

std::string Payload::as_bytes() const {
  json j = unpack(bytes_);
  if (!j.is_binary()) throw Error(Code::bad_request, std::string("payload is a ") + j.type_name() + ", not bytes");
  const auto& b = j.get_binary();
  return std::string(b.begin(), b.end());
}

std::string Payload::as_text() const {
  json j = unpack(bytes_);
  if (!j.is_string()) throw Error(Code::bad_request, std::string("payload is a ") + j.type_name() + ", not text");
  return j.get<std::string>();
}

std::string Payload::to_json() const {
  try {
    return binary_json::show(unpack(bytes_)).dump(-1, ' ', false, json::error_handler_t::replace);
  } catch (const json::exception& e) {
    throw Error(Code::bad_request, std::string("payload has no JSON form: ") + e.what());
  } catch (const std::invalid_argument& e) {
    throw Error(Code::bad_request, std::string("payload has no JSON form: ") + e.what());
  }
}

}  // namespace ledgerq::client
