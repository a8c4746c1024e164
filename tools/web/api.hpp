// The dashboard's JSON API (/api/...): each handler validates its HTTP
// input, asks the broker (PROTOCOL.md §6) through a BrokerPool, and answers
// JSON. The browser never speaks ZeroMQ.
#pragma once

#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "broker_call.hpp"  // tools/common

namespace httplib {
class Server;
}

namespace ledgerq::web {

/// Connections to the broker shared by the HTTP threads: each call takes an
/// idle connection (or opens one) and gives it back after a reply. A
/// connection whose call failed is dropped, not reused: its request may
/// still be queued in it, and a queued action (a delete, a retry) must not
/// be applied when the broker comes back after the page was told it failed.
/// Thread-safe. At most `max_idle` connections are kept; concurrent calls
/// are bounded by the HTTP server's thread pool.
class BrokerPool {
 public:
  explicit BrokerPool(tools::BrokerAddress address, std::size_t max_idle = 4);
  /// Throws tools::CallError.
  tools::Answer call(std::string_view command, const tools::json& fields);
  const tools::BrokerAddress& address() const { return address_; }

 private:
  tools::BrokerAddress address_;
  std::size_t max_idle_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<tools::Connection>> idle_;
};

/// Registers the /api/ routes on `server`. With `read_only`, the actions
/// (pause, retry, cancel, delete) answer 403 and change nothing.
void add_api_routes(httplib::Server& server, BrokerPool& broker, bool read_only);

/// The ids and names the protocol accepts (PROTOCOL.md §5), checked before
/// anything is sent so that the page gets a clear 400.
bool valid_datasource(std::string_view s);  ///< also a job type
bool valid_id(std::string_view s);          ///< a job id, client id or key

}  // namespace ledgerq::web
