// Kv: the ordered byte-string store the domain reads and writes, one write
// transaction at a time. storage/ implements it over LMDB; mem_kv.hpp over
// std::map for tests that must run in microseconds. No LMDB type crosses
// this interface.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace ledgerq::domain {

/// The tables of the store. Key layouts are in view.cpp; the list is part of
/// the on-disk format (storage/lmdb_env.hpp, kFormatVersion).
enum class Table : std::uint8_t {
  meta,            ///< "format", "last_ts", "log_entries", "log_bytes", "log_trimmed_through"
  log,             ///< be64(timestamp) -> Event: the append-only truth
  datasources,     ///< name -> DatasourceRecord
  jobs,            ///< ds NUL be64(order) -> JobRecord: in submission order, so the jobs a
                   ///< worker takes together share leaf pages (job_ids finds them by id)
  ds_requests,     ///< ds NUL be64(timestamp) -> be64(seq): submits and cancels per datasource
  clients,         ///< client -> be64(last seq on its status topic)
  client_notices,  ///< client NUL be64(seq) -> StatusNotice: what `missed` answers from
  // Indexes derived from each job record (indexes.cpp keeps them in step):
  ready,           ///< ds NUL type NUL prio be64(eligible) be64(submitted) -> job: pending, dequeuable;
                   ///< each job also in the line of type "*" (kAllTypes): every type's, merged
  ready_types,     ///< ds NUL type -> be64(count of `ready` entries): the types a worker may find
  leases,          ///< be64(lease_until) ds NUL job -> "": leases by deadline
  by_status,       ///< ds NUL status be64(submitted) -> job
  by_client,       ///< ds NUL client NUL be64(submitted) -> job
  by_type,         ///< ds NUL type NUL be64(submitted) -> job (typed jobs)
  by_key,          ///< ds NUL key NUL be64(submitted) -> job (keyed jobs)
  key_queue,       ///< ds NUL key NUL be64(submitted) -> job: keyed jobs not yet finished
  key_active,      ///< ds NUL key NUL be64(submitted) -> job: the one of them let forward (eligible or held)
  finished,        ///< be64(updated) ds NUL job -> "": terminal jobs, oldest first (GC)
  counts,          ///< ds NUL status prio -> be64(count)
  // Other state:
  keys,            ///< ds NUL key -> KeyState: resource existence (datasources with resources)
  tombstones,      ///< ds NUL job -> Tombstone: what idempotent resubmits need of GC'd jobs
  notice_times,    ///< be64(timestamp) -> client NUL be64(seq): notices by age (trimming)
  job_ids,         ///< ds NUL job -> be64(order): where a job's record is in `jobs`
};
inline constexpr std::size_t kTableCount = 22;

/// Names as the tables are called in the LMDB environment and the tools.
const char* table_name(Table t) noexcept;

using Entry = std::pair<std::string, std::string>;
/// Called with each key and value; return false to stop.
using Visitor = std::function<bool(std::string_view key, std::string_view value)>;

/// One transaction's access to the tables. Not thread-safe: a transaction
/// belongs to one thread. Failures of the medium (disk full, I/O) throw.
class Kv {
 public:
  virtual ~Kv() = default;
  virtual std::optional<std::string> get(Table t, std::string_view key) = 0;
  virtual void put(Table t, std::string_view key, std::string_view value) = 0;
  /// Like put, for a key greater than every key in `t` (the log's fast path).
  virtual void append(Table t, std::string_view key, std::string_view value) = 0;
  virtual bool erase(Table t, std::string_view key) = 0;
  /// Erases every key that starts with `prefix`; returns how many.
  virtual std::size_t erase_prefix(Table t, std::string_view prefix) = 0;
  /// Visits entries with key >= from, ascending, until `visit` returns false.
  virtual void scan(Table t, std::string_view from, const Visitor& visit) = 0;
  /// The entry with the greatest key strictly below `below`; an empty
  /// `below` means the last entry of the table.
  virtual std::optional<Entry> last_before(Table t, std::string_view below) = 0;
};

}  // namespace ledgerq::domain
