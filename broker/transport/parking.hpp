// Dequeues that wait for a job (`wait_ms`): parked after a turn in which
// they found nothing, run again inside a later turn's transaction when
// their datasource changed or their time came, answered once that turn has
// committed. A worker whose connection closes while it waits is answered
// empty and never leased to.
//
// Threads: the broker's loop thread only.
#pragma once

#include <cstddef>
#include <list>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "domain/machine.hpp"
#include "log_limit.hpp"
#include "pending.hpp"

namespace ledgerq::transport {

class Parking {
 public:
  // A bound on the parked dequeues bounds the work of running them again
  // and the memory they hold; the bound per connection keeps one peer from
  // taking every place.
  static constexpr std::size_t kMaxParked = 10'000;
  static constexpr std::size_t kMaxParkedPerConnection = 256;

  explicit Parking(LogLimit& warnings) : warnings_(warnings) {}

  /// Inside the turn's transaction, after its commands: runs again the
  /// parked dequeues whose datasource `notices` or `batch` changed, or whose
  /// time came, and the batch's own dequeues that found nothing but whose
  /// datasource a later request of the batch changed. Notices they cause
  /// are added to `notices`. May run again for the same turn (an aborted
  /// transaction applied anew): only the last run counts.
  void run(domain::View& view, const domain::Context& ctx, std::vector<Pending>& batch,
           std::vector<domain::Notice>& notices);

  /// The turn committed: the parked dequeues it answered move to `woken`;
  /// the batch's dequeues that still found nothing leave the batch and
  /// wait (or, past a bound, are answered now with no jobs). Returns how
  /// many started to wait.
  std::size_t commit(std::vector<Pending>& batch, std::vector<Pending>& woken, Micros now);

  /// A connection closed: its dequeues are answered, empty, by the next run.
  void disconnected(int fd);

  /// The earliest of `next` and every parked deadline or wake-up time.
  Micros next_due(Micros next) const;

 private:
  // A dequeue waiting for a job. Its piggybacked acks were applied when it
  // arrived; their results wait here for the reply.
  struct Parked {
    Pending p;
    cmd::Dequeue dequeue;  // acks removed: they must not run twice
    std::vector<reply::ItemResult> acks;
    Micros deadline = 0;
    bool gone = false;  // its connection closed: answered empty, never leased to
  };
  using Touched = std::set<std::string, std::less<>>;

  bool rerun(domain::View& view, Parked& q, const domain::Context& ctx, const Touched& touched,
             std::vector<domain::Notice>& notices);

  LogLimit& warnings_;
  std::list<Parked> parked_;              // oldest first
  std::map<int, std::size_t> parked_on_;  // of them, per connection (fd)
  std::vector<std::list<Parked>::iterator> done_;  // answered by the last run
};

}  // namespace ledgerq::transport
