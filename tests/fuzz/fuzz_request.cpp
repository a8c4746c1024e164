// libFuzzer target: the request decoder on any bytes. Whatever decodes must
// encode back to bytes that decode to the same command (one codec, no
// drift), and nothing may crash, hang or leak. Seeds: the conformance
// vectors' request frames (tests/fuzz/seed_corpus.py).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "codec/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ledgerq;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto first = codec::decode_request(bytes);
  if (!first.command) {
    if (first.command.error().message.size() > codec::Limits::max_error) std::abort();
    (void)codec::quote(bytes);
    return 0;
  }
  const std::string again = codec::encode_request(Request{first.rid, first.command.value()});
  auto second = codec::decode_request(again);
  if (!second.command || second.rid != first.rid) std::abort();
  if (codec::encode_request(Request{second.rid, second.command.value()}) != again) std::abort();
  return 0;
}
