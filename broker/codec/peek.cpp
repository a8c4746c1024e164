// peek_event_subject(): the names at the head of a stored log event, read
// from the bytes our encoder writes (fields.hpp: type, datasource, job
// first), so that a reader skipping other jobs' entries never copies their
// bodies. Anything else is left to decode_event.
#include <cstdint>

#include "codec.hpp"

namespace ledgerq::codec {
namespace {

struct Cursor {
  std::string_view b;
  std::size_t at = 0;

  bool byte(unsigned char& c) {
    if (at >= b.size()) return false;
    c = static_cast<unsigned char>(b[at++]);
    return true;
  }
  bool be(std::size_t n, std::uint32_t& v) {
    v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      unsigned char c = 0;
      if (!byte(c)) return false;
      v = v << 8 | c;
    }
    return true;
  }
  // A msgpack str of any header width.
  std::optional<std::string_view> str() {
    unsigned char h = 0;
    if (!byte(h)) return std::nullopt;
    std::uint32_t n = 0;
    if ((h & 0xe0) == 0xa0) n = h & 0x1f;
    else if (h == 0xd9 ? !be(1, n) : h == 0xda ? !be(2, n) : h == 0xdb ? !be(4, n) : true) return std::nullopt;
    if (n > b.size() - at) return std::nullopt;
    auto s = b.substr(at, n);
    at += n;
    return s;
  }
};

}  // namespace

std::optional<EventSubject> peek_event_subject(std::string_view bytes) {
  Cursor c{bytes};
  unsigned char h = 0;
  std::uint32_t n = 0;
  if (!c.byte(h)) return std::nullopt;
  if ((h & 0xf0) == 0x80) n = h & 0x0f;
  else if (h == 0xde ? !c.be(2, n) : h == 0xdf ? !c.be(4, n) : true) return std::nullopt;
  if (n < 2 || c.str() != "type" || !c.str()) return std::nullopt;
  EventSubject s;
  if (c.str() != "datasource") return std::nullopt;
  auto ds = c.str();
  if (!ds) return std::nullopt;
  s.datasource = *ds;
  if (n >= 3 && c.str() == "job") {  // absent for a datasource's own events
    auto job = c.str();
    if (!job) return std::nullopt;
    s.job = *job;
  }
  return s;
}

}  // namespace ledgerq::codec
