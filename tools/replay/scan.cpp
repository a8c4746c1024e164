#include "scan.hpp"

#include <cstdio>
#include <functional>
#include <thread>

#include "codec/codec.hpp"
#include "domain/view.hpp"
#include "storage/journal.hpp"
#include "codec/time_text.hpp"

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

// The entries the broker has journaled and not yet written to LMDB
// (broker/transport/store.hpp), read with `snapshot`, which says where its
// log ends in the journal. Written but unflushed records are read too, as
// LMDB's uncommitted pages are not: what a reply acknowledged is shown.
void journaled_entries(storage::Env& env, domain::Kv& snapshot,
                       const std::function<bool(std::string_view, std::string_view)>& visit) {
  auto file = storage::open_journal_file_to_read(storage::journal_path(env.options().dir));
  if (!file) return;
  const auto at = storage::journal_position(snapshot);
  const storage::Journal journal(std::move(file));
  for (const auto& r : journal.read(at.seq, at.offset)) {
    bool go = true;
    storage::decode_entries(r.payload, [&](std::string_view k, std::string_view v) {
      if (go) go = visit(k, v);
    });
    if (!go) return;
  }
}

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
      auto visit = [&](std::string_view k, std::string_view v, bool chunked) {
        const Micros ts = domain::from_be64(k);
        if (ts < cursor) {  // before the range, or printed already from the journal
          // A journaled submit before the range: LMDB's view may not hold
          // its job yet, so the client filter learns its owner here.
          if (!chunked)
            if (auto e = codec::decode_event(v)) match.learn(*e);
          return true;
        }
        if (ts >= o.to) {
          done = true;
          return false;
        }
        if (chunked && read == o.chunk) return false;
        ++read;
        ++st.scanned;
        cursor = ts + 1;
        auto e = codec::decode_event(v);
        if (!e) {
          ++st.undecodable;
          std::fprintf(stderr, "ledgerq-replay: log entry %llu (%s) is not an event: %s\n",
                       static_cast<unsigned long long>(ts), codec::format_time(ts).c_str(), e.error().message.c_str());
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
      };
      txn.scan(Table::log, domain::be64(cursor), [&](std::string_view k, std::string_view v) { return visit(k, v, true); });
      // Caught up with LMDB: then what the broker journaled after it.
      if (!done && read < o.chunk)
        journaled_entries(env, txn, [&](std::string_view k, std::string_view v) { return visit(k, v, false); });
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
