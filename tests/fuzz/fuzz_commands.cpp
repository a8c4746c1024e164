// libFuzzer target: command sequences against the domain (the pure state
// machine over MemKv). The input is a series of [u16 length][request
// bytes] records, each decoded and executed in order with a clock that
// moves by the record's first byte in seconds, the timers run between
// them; three principals (none, a client, a worker) take turns. After the
// sequence the view must equal the fold of its log: whatever a peer sends,
// the broker's state stays the log's fold.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "codec/codec.hpp"
#include "domain/access.hpp"
#include "domain/machine.hpp"
#include "domain/mem_kv.hpp"
#include "domain/retention.hpp"
#include "domain/verify.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ledgerq;
  domain::MemKv kv;
  domain::Runtime runtime;
  Micros now = 1'700'000'000'000'000;
  const domain::Principal client{"c", domain::Role::client, {}};
  const domain::Principal worker{"w", domain::Role::worker, {"*"}};
  const domain::Principal* who[] = {nullptr, &client, &worker};
  // Jobs are collected (a gc event in the log); the log itself is kept
  // whole: a trimmed log no longer folds into the view by design.
  domain::Retention retention;
  retention.job_age = 60'000'000;
  std::size_t at = 0, n = 0;
  while (at + 2 <= size && n < 64) {
    const std::size_t len = (std::size_t{data[at]} << 8 | data[at + 1]) % 4096;
    at += 2;
    const std::string_view bytes(reinterpret_cast<const char*>(data) + at, std::min(len, size - at));
    at += bytes.size();
    if (!bytes.empty()) now += static_cast<Micros>(static_cast<std::uint8_t>(bytes[0])) * 1'000'000;
    auto req = codec::decode_request(bytes);
    if (!req.command) continue;
    Command c = req.command.value();
    const domain::Principal* p = who[n++ % 3];
    if (p && domain::authorize(*p, c)) continue;
    domain::View view(kv);
    domain::Context ctx{now, &runtime, nullptr, p};
    auto out = domain::execute(view, c, ctx);
    (void)domain::tick(view, now, retention, 100);
    view.flush();
    if (out.reply.ok()) (void)codec::encode_reply(Reply{req.rid, Code::ok, {}, out.reply.value()});
  }
  domain::MemKv folded;
  auto f = domain::fold_log(kv, folded);
  if (!f) std::abort();
  if (!domain::diff_views(kv, folded, 1).empty()) std::abort();
  return 0;
}
