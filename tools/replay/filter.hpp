// Which log entries to print: by datasource, client, job and event type.
// Several values of one filter match any of them; different filters must
// all match.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "codec/messages.hpp"
#include "domain/kv.hpp"

namespace ledgerq::replay {

struct Filter {
  std::vector<std::string> datasources;
  std::vector<std::string> clients;
  std::vector<std::string> jobs;
  std::vector<EventType> types;
  bool empty() const { return datasources.empty() && clients.empty() && jobs.empty() && types.empty(); }
};

/// Applies a Filter to events in log order. Only submit, cancel and status
/// events carry a client; for the others (lease, ack, expire, ...) the
/// client filter uses the job's client: learnt from its submit when the
/// scan saw it, else from the job record or tombstone in the snapshot the
/// event was read from. Not thread-safe.
class Matcher {
 public:
  explicit Matcher(Filter f) : f_(std::move(f)) {}
  /// `snapshot` is the read transaction the event came from.
  bool match(const Event& e, domain::Kv& snapshot);
  /// An event not to print (before the range) whose job the snapshot's view
  /// may not hold yet (the broker's journal): learns its owner if a submit.
  void learn(const Event& e);

 private:
  std::string client_of(const Event& e, domain::Kv& snapshot);
  Filter f_;
  std::map<std::pair<std::string, std::string>, std::string, std::less<>> owners_;  ///< (ds, job) -> client
};

}  // namespace ledgerq::replay
