#include "scan.hpp"

#include <cstdio>
#include <thread>

#include "codec/codec.hpp"
#include "domain/view.hpp"
#include "time_arg.hpp"

namespace ledgerq::replay {

using domain::Table;

LogBounds log_bounds(domain::Kv& snapshot) {
  LogBounds b;
  snapshot.scan(Table::log, "", [&](std::string_view k, std::string_view v) {
    b.first = domain::from_be64(k);
    if (auto e = codec::decode_event(v)) b.first_event = std::move(e).value();
    return false;
  });
  if (auto last = snapshot.last_before(Table::log, "")) b.last = domain::from_be64(last->first);
  return b;
}

namespace {

Micros wall_now() {
  using namespace std::chrono;
  return static_cast<Micros>(duration_cast<microseconds>(system_clock::now().time_since_epoch()).count());
}

}  // namespace

ScanStats scan_log(storage::Env& env, const ScanOptions& o, Matcher& match, Printer& out, Progress& progress,
                   const std::atomic<bool>& stop) {
  using clock = std::chrono::steady_clock;
  ScanStats st;
  Micros cursor = o.from;
  bool done = false;
  // What the progress bar measures against: the log as it was at the start.
  Micros span_end = cursor;
  {
    auto txn = env.begin_read();
    const auto b = log_bounds(txn);
    if (b.last) span_end = std::min(*b.last, o.to == 0 ? 0 : o.to - 1);
    if (b.first) cursor = std::max(cursor, *b.first);
  }
  const Micros span_start = cursor;
  // (a time_point, not an optional: GCC 12 misreads the optional as unset)
  const auto follow_until = o.follow_for ? clock::now() + *o.follow_for : clock::time_point::max();

  while (!done && !stop.load()) {
    std::size_t read = 0;
    {
      // One short snapshot per chunk (see scan.hpp).
      auto txn = env.begin_read();
      txn.scan(Table::log, domain::be64(cursor), [&](std::string_view k, std::string_view v) {
        const Micros ts = domain::from_be64(k);
        if (ts >= o.to) {
          done = true;
          return false;
        }
        if (read == o.chunk) return false;
        ++read;
        ++st.scanned;
        cursor = ts + 1;
        auto e = codec::decode_event(v);
        if (!e) {
          ++st.undecodable;
          std::fprintf(stderr, "ledgerq-replay: log entry %llu (%s) is not an event: %s\n",
                       static_cast<unsigned long long>(ts), format_time(ts).c_str(), e.error().message.c_str());
          return true;
        }
        if (!match.match(*e, txn)) return true;
        out.entry(ts, *e);
        ++st.printed;
        if (o.count && st.printed >= *o.count) {
          done = true;
          return false;
        }
        return true;
      });
    }
    if (done) break;
    if (read == o.chunk) {
      if (span_end > span_start)
        progress.update(static_cast<double>(cursor - span_start) / static_cast<double>(span_end - span_start),
                        st.scanned);
      continue;  // more right away
    }
    // Caught up with the log.
    progress.done();
    if (!o.follow) break;
    out.flush();
    // Past `to` (with a second's grace for commits stamped just before it
    // and still in flight), nothing more can come.
    if (const Micros now = wall_now(); now > o.to && now - o.to > 1'000'000) break;
    if (clock::now() >= follow_until) break;
    const auto wake = clock::now() + o.poll;
    while (clock::now() < wake && !stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  progress.done();
  out.flush();
  return st;
}

}  // namespace ledgerq::replay
