// View: the typed, materialized state of the broker over a Kv — datasources,
// jobs, topic sequence numbers and the indexes that make every query a
// cursor seek. One View per write transaction; it caches the log clock and
// must be flush()ed before the transaction commits.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codec/messages.hpp"
#include "kv.hpp"

namespace ledgerq::domain {

/// Big-endian 8-byte encoding: keys that sort as the numbers do.
std::string be64(std::uint64_t v);
std::uint64_t from_be64(std::string_view b);  ///< b.size() must be 8

class View {
 public:
  explicit View(Kv& kv);

  Kv& kv() { return kv_; }

  /// The next log timestamp: max(now, last + 1), so log keys strictly
  /// increase even when the wall clock steps back.
  Micros next_timestamp(Micros now);
  Micros last_timestamp() const { return last_ts_; }
  /// For folding the log: the clock as it was after the entry at `ts`.
  void advance_clock_to(Micros ts);
  /// Writes the cached clock back; call before commit.
  void flush();

  std::optional<DatasourceRecord> datasource(std::string_view ds);
  void put_datasource(std::string_view ds, const DatasourceRecord& r);
  std::vector<DatasourceInfo> datasources();
  /// Drops a datasource with its jobs and request index.
  void erase_datasource(std::string_view ds);

  std::optional<JobRecord> job(std::string_view ds, std::string_view job);
  void put_job(std::string_view ds, const JobRecord& j);

  void index_request(std::string_view ds, Micros ts, std::uint64_t seq);
  /// Request entries of `ds` with timestamp >= from; at most `limit`, and
  /// whether more follow.
  std::vector<RequestEntry> requests_since(std::string_view ds, Micros from, std::uint32_t limit,
                                           bool& more);
  std::optional<RequestEntry> latest_request(std::string_view ds);

  std::uint64_t client_seq(std::string_view client);
  /// Assigns the next seq on the client's topic and stores the notice.
  void add_notice(StatusNotice& n);
  std::vector<StatusNotice> notices_since(std::string_view client, std::uint64_t from,
                                          std::uint32_t limit, bool& more);

  /// The log entry at `ts`, decoded (nullopt if absent).
  std::optional<Event> log_event(Micros ts);

 private:
  RequestEntry entry_from_log(std::string_view ds, Micros ts, std::uint64_t seq);

  Kv& kv_;
  Micros last_ts_ = 0;
  bool clock_dirty_ = false;
};

}  // namespace ledgerq::domain
