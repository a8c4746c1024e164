// View: the typed, materialized state of the broker over a Kv — datasources,
// jobs, topic sequence numbers and the ordered indexes that make every
// question a cursor seek (kv.hpp lists them). One View per transaction; it
// caches the log clock and must be flush()ed before the transaction commits.
//
// Every change to a job goes through put_job()/erase_job(), which keep all
// of the job's derived index entries and counters in step (indexes.cpp).
//
// The few records that nearly every command of a turn rewrites (the
// datasource's seq, the client's topic seq, the status and ready counters)
// are kept in the View and written once, by flush(): a turn of 500 submits
// then decodes and rewrites its datasource record once, not 500 times.
// Queries that scan those tables write them back first. Job records read or
// written in the turn are kept decoded too (written through at once): a
// lease or an ack reads its job twice, to check and then to fold.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "codec/messages.hpp"
#include "index_entries.hpp"
#include "kv.hpp"

namespace ledgerq::domain {

/// Big-endian 8-byte encoding: keys that sort as the numbers do.
std::string be64(std::uint64_t v);
std::uint64_t from_be64(std::string_view b);  ///< b.size() must be 8

/// "a NUL b": the separator no id can contain.
std::string join(std::string_view a, std::string_view b);

/// A job id found through an index, with the key it was found under (for
/// continuations).
struct IndexHit {
  std::string index_key;
  std::string job;
};

/// The head of one (datasource, type, priority) line of the ready index.
struct ReadyHead {
  Micros eligible = 0;
  Micros submitted = 0;
  std::string job;
};

/// A lease that has run out.
struct LeaseRef {
  Micros lease_until = 0;
  std::string datasource, job;
};

class View {
 public:
  explicit View(Kv& kv);

  Kv& kv() { return kv_; }

  // --- the log clock -------------------------------------------------------
  /// The next log timestamp: max(now, last + 1), so log keys strictly
  /// increase even when the wall clock steps back.
  Micros next_timestamp(Micros now);
  Micros last_timestamp() const { return last_ts_; }
  /// For folding the log: the clock as it was after the entry at `ts`.
  void advance_clock_to(Micros ts);
  /// Writes the cached records, clock and log size back; call before
  /// commit (a View dropped without it loses the turn's counters).
  void flush();

  // --- the log's size (meta), kept as entries are appended and trimmed ----
  void note_log_append(std::size_t value_bytes);
  /// Where record() and replay() also put each log entry they append (key
  /// and value): the turn's journal record. Null: nowhere.
  void capture_log(std::vector<Entry>* sink) { log_sink_ = sink; }
  std::vector<Entry>* log_sink() const { return log_sink_; }
  void note_log_trim(std::size_t value_bytes);
  std::uint64_t log_entries() const { return log_entries_; }
  std::uint64_t log_bytes() const { return log_bytes_; }
  /// Bytes of the status notices stored for `missed` (their values), which
  /// log retention trims with the entries that produced them.
  std::uint64_t notice_bytes() const { return notice_bytes_total_; }
  /// Removes one stored notice (client NUL be64(seq)) and its bytes.
  void erase_notice(std::string_view key);

  // --- datasources ---------------------------------------------------------
  /// A datasource that exists: not one being deleted (for commands).
  std::optional<DatasourceRecord> datasource(std::string_view ds);
  /// Its record even while it is being deleted (for the fold and timers).
  std::optional<DatasourceRecord> any_datasource(std::string_view ds);
  void put_datasource(std::string_view ds, const DatasourceRecord& r);
  /// The datasources that exist, with their counts.
  std::vector<DatasourceInfo> datasources();
  /// The datasources being deleted.
  std::vector<std::string> deleting_datasources();
  /// One slice of a deleted datasource's removal: up to `limit` jobs, then
  /// up to the rest of `limit` entries of its request index, keys and
  /// tombstones; when nothing is left, its counters and record. Returns
  /// true when it is gone. Deterministic: the fold repeats it exactly.
  bool purge_datasource(std::string_view ds, std::size_t limit);
  StatusCounts counts(std::string_view ds);
  /// Jobs of `ds` in `status`, of one priority or all.
  std::uint64_t count(std::string_view ds, JobStatus status, std::optional<std::uint8_t> priority);

  // --- jobs ----------------------------------------------------------------
  std::optional<JobRecord> job(std::string_view ds, std::string_view job);
  /// The same, read in place: valid until the next call that changes a job
  /// (or reads one not read yet in this View). For checks that copy nothing.
  const JobRecord* find_job(std::string_view ds, std::string_view job);
  /// Stores `after`, moving the job's index entries and counters from what
  /// `before` (its stored record, or nullopt for a new job) had. `after` is
  /// kept (the turn's cache of decoded records): pass it moved when done.
  void put_job(std::string_view ds, const std::optional<JobRecord>& before, JobRecord after);
  /// Removes the job and every index entry of it.
  void erase_job(std::string_view ds, const JobRecord& before);

  std::optional<Tombstone> tombstone(std::string_view ds, std::string_view job);
  void put_tombstone(std::string_view ds, std::string_view job, const Tombstone& t);
  void erase_tombstone(std::string_view ds, std::string_view job);
  /// Log entries up to this timestamp were trimmed by retention (0: none).
  Micros log_trimmed_through();
  /// Finished jobs in the view, across datasources (from the counters).
  std::uint64_t finished_count();

  // --- queue indexes -------------------------------------------------------
  std::optional<ReadyHead> ready_head(std::string_view ds, std::string_view type, std::uint8_t priority);
  /// The first `limit` jobs of one ready line that are due by `now`, in order.
  std::vector<ReadyHead> ready_line(std::string_view ds, std::string_view type, std::uint8_t priority, Micros now,
                                    std::size_t limit);
  /// Types that have ready jobs in `ds` ("" for untyped jobs).
  std::vector<std::string> ready_types(std::string_view ds);
  /// Whether `type` has ready jobs in `ds` (one counter read).
  bool has_ready(std::string_view ds, std::string_view type);
  /// Ready jobs of `ds` due by `now` (due) or later (!due), counting at most `cap`.
  std::uint64_t count_ready(std::string_view ds, JobStatus status, std::optional<std::uint8_t> priority,
                            bool due, Micros now, std::uint64_t cap, bool& capped);
  /// Leases whose deadline is <= now, oldest first, at most `limit`.
  std::vector<LeaseRef> expired_leases(Micros now, std::size_t limit);
  /// The earliest lease deadline, if any lease is held.
  std::optional<Micros> next_lease_deadline();
  /// The first unfinished job of a key, in submit order.
  std::optional<IndexHit> key_head(std::string_view ds, std::string_view key);
  /// Whether a job of the key has been let forward (eligible or held):
  /// at most one is, and while it is, the rest of the line waits.
  bool key_has_active(std::string_view ds, std::string_view key);
  std::optional<KeyState> key_state(std::string_view ds, std::string_view key);
  void put_key_state(std::string_view ds, std::string_view key, const KeyState& k);
  /// Terminal jobs whose last change is older than `before`, oldest first.
  std::vector<std::pair<std::string, std::string>> finished_before(Micros before, std::size_t limit);

  /// Job ids under an index prefix from `from` (an index key, exclusive when
  /// `after`), at most `limit`; `examined` counts the entries read.
  std::vector<IndexHit> index_page(Table t, std::string_view prefix, std::string_view from, bool after,
                                   std::size_t limit);

  // --- request topics ------------------------------------------------------
  void index_request(std::string_view ds, Micros ts, std::uint64_t seq);
  /// Request entries of `ds` with timestamp >= from; at most `limit`, and
  /// at most a reply's byte budget (codec::Limits::reply_items) of them;
  /// `more` says whether more follow.
  std::vector<RequestEntry> requests_since(std::string_view ds, Micros from, std::uint32_t limit,
                                           bool& more);
  std::optional<RequestEntry> latest_request(std::string_view ds);

  // --- client topics -------------------------------------------------------
  std::uint64_t client_seq(std::string_view client);
  /// Assigns the next seq on the client's topic and stores the notice.
  void add_notice(StatusNotice& n);
  /// The bytes add_notice() stored for `n`, handed over once (for the
  /// broker to publish without encoding it again); empty if not kept.
  std::string take_notice_bytes(const StatusNotice& n);
  /// A client's notices with seq >= from; at most `limit`, and at most a
  /// reply's byte budget of them; `more` says whether more follow.
  std::vector<StatusNotice> notices_since(std::string_view client, std::uint64_t from,
                                          std::uint32_t limit, bool& more);

  /// The log entry at `ts`, decoded (nullopt if absent).
  std::optional<Event> log_event(Micros ts);

 private:
  // be64 counters of one table, read through and written back by flush().
  class Counters {
   public:
    Counters(Table t, bool erase_zero) : table_(t), erase_zero_(erase_zero) {}
    std::uint64_t get(Kv& kv, std::string_view key);
    void set(Kv& kv, std::string_view key, std::uint64_t v);
    void add(Kv& kv, std::string_view key, std::int64_t delta, const char* what);
    void write_back(Kv& kv);

   private:
    struct Slot {
      std::uint64_t value = 0;
      bool dirty = false;
    };
    Slot& slot(Kv& kv, std::string_view key);
    Table table_;
    bool erase_zero_;
    std::map<std::string, Slot, std::less<>> cache_;
  };
  struct CachedDatasource {
    std::optional<DatasourceRecord> record;
    bool dirty = false;
  };

  RequestEntry entry_from_log(std::string_view ds, Micros ts, std::uint64_t seq);
  void add_count(std::string_view ds, JobStatus s, std::uint8_t prio, std::int64_t delta);
  void add_ready_type(std::string_view ds, std::string_view type, std::int64_t delta);
  void write_back_datasources();
  std::optional<JobRecord>& cache_job(std::string_view ds, std::string_view job, std::optional<JobRecord> j);
  void set_key(std::string_view a, std::string_view b);  ///< key_ = a NUL b
  static constexpr std::size_t kJobCacheMax = 4096;
  static constexpr std::size_t kNoticeBytesMax = 65536;  // a fold takes none of them

  Kv& kv_;
  IndexEntries entries_before_, entries_after_;  ///< put_job()'s, reused
  Counters counts_{Table::counts, true};
  Counters ready_types_{Table::ready_types, true};
  Counters client_seqs_{Table::clients, false};
  std::map<std::string, CachedDatasource, std::less<>> datasources_;
  // Looked up by whole key only, several times a job: hashed, not ordered,
  // and by a string_view (a key built in key_), so a hit allocates nothing.
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view k) const noexcept { return std::hash<std::string_view>{}(k); }
  };
  template <class T> using ByKey = std::unordered_map<std::string, T, KeyHash, std::equal_to<>>;
  ByKey<std::optional<JobRecord>> jobs_;  ///< ds NUL job; bounded
  ByKey<std::string> notice_bytes_;       ///< client NUL be64(seq); bounded
  std::string key_;                       ///< scratch for the lookups above
  Micros last_ts_ = 0;
  std::uint64_t log_entries_ = 0, log_bytes_ = 0, notice_bytes_total_ = 0;
  std::vector<Entry>* log_sink_ = nullptr;
  bool clock_dirty_ = false, size_dirty_ = false;
};

/// Store formats before 7 lack the line of all types (kAllTypes) in
/// `ready`: adds it from every type's line. Returns the entries added.
std::size_t add_all_types_lines(Kv& kv);
/// What a store of format `from` lacks that this build's keeps, added
/// (storage::EnvOptions::upgrade). Returns the entries added.
std::size_t upgrade_store(Kv& kv, std::uint32_t from);

}  // namespace ledgerq::domain
