// The LMDB environment: one per data directory, holding the log and the view
// (domain/kv.hpp lists the tables). The tables that stay small whatever the
// number of jobs share one LMDB database, `tables`, under a one-byte prefix,
// their domain::Table number; every other table has a database of its own
// (README "Storage format"). RAII for the environment and for
// transactions, lmdbxx-style: "not found" is an ordinary value, real
// failures throw LmdbError naming the failing call.
//
// Thread rules (LMDB's): the Env may be shared; a transaction and its Kv
// belong to the thread that began it. The broker writes from one thread.
#pragma once

#include <lmdb.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "domain/kv.hpp"

namespace ledgerq::storage {

/// On-disk format version, stored in meta["format"]. Rule: bump it whenever
/// a table, a key layout or a stored value changes incompatibly; a broker
/// refuses a directory whose version it does not read (never rewrites its
/// data; an older version that is a subset of this one has its mark raised).
/// History: 1 = the core log and view; 2 = the work queue's indexes, keys,
/// tombstones and richer job records (a version-1 store lacks the indexes);
/// 3 = the tables that stay small (shares_db) share one LMDB database,
/// `tables`, each key prefixed with its table's number (same keys and values
/// as 2 otherwise). A durable commit writes fewer pages: 18 instead of 22 for
/// a submit on a small store, 29 instead of 34 for a dequeue+ack with
/// 200,000 jobs waiting; 4 = `jobs` keyed by submission order (the job
/// record's `order`) with `job_ids` mapping ids to it: the jobs a worker
/// takes together share leaf pages whatever their ids (a dequeue(100) +
/// 100 acks commit with ~220,000 jobs waiting: 92 pages instead of 229);
/// 5 = a deleted datasource is marked `deleting` in its record and removed
/// by `purge` events in the log, a slice at a time. A version-4 store is a
/// version-5 store without them: opened writable, it is marked 5;
/// 6 = written behind the journal (DIR/journal, transport/store.hpp):
/// meta["journal"] holds the last journal seq the store contains and where
/// the next record starts, and a broker applies the records after it before
/// anything else. An older broker would ignore them, so it must refuse the
/// store. A version-4 or 5 store is one with nothing to apply;
/// 7 = `ready` also holds the line of all types (domain::kAllTypes), which a
/// dequeue that names no types reads. An older store gains it when opened
/// writable (EnvOptions::upgrade, in the transaction that marks it 7).
inline constexpr std::uint32_t kFormatVersion = 7;
/// The oldest format this build reads (and, writable, marks kFormatVersion).
inline constexpr std::uint32_t kOldestFormatRead = 4;

/// The LMDB database holding the tables for which shares_db is true.
inline constexpr const char* kSharedDbName = "tables";

/// True for the tables kept in kSharedDbName under a one-byte prefix: those
/// that stay a few pages whatever the number of jobs, which then share a
/// page or two instead of a root page each. The others grow with the jobs
/// and each keep a database of their own, named as the table: in one tree
/// they would share nothing but a deeper branch path (README "Storage format").
constexpr bool shares_db(domain::Table t) {
  using domain::Table;
  switch (t) {
    case Table::meta:
    case Table::datasources:
    case Table::clients:
    case Table::ready_types:
    case Table::leases:
    case Table::counts:
      return true;
    default:
      return false;
  }
}

/// An LMDB call failed. `code` is LMDB's (or errno); what() names the call.
class LmdbError : public std::runtime_error {
 public:
  LmdbError(const char* call, int code, bool fatal = false);
  int code() const noexcept { return code_; }
  /// True for MDB_PANIC, MDB_CORRUPTED and a failed sync of a commit: the
  /// process must end.
  bool fatal() const noexcept;

 private:
  int code_;
  bool fatal_;
};

/// The data directory holds something that is not ours, or a format version
/// this build does not read.
class FormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The store is damaged: data.mdb is empty, shorter than the last page its
/// meta pages name (truncated), or has no valid meta page. Checked before
/// LMDB maps the file, which would otherwise fault (SIGBUS) on the pages
/// that are not there. Nothing is written to such a store.
class CorruptError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Checks a store's data.mdb before anything maps it (Env does, first):
/// nothing if it is absent or sound; FormatError if it is not an LMDB file;
/// CorruptError if it is empty, has no valid meta page, or is shorter than
/// the last page its newer meta names.
void check_data_file(const std::filesystem::path& file);

/// How commits reach the disk; see README "Durability".
/// LMDB commits with MDB_NOMETASYNC in every mode: its data pages are
/// synced, its meta page is durable at the next commit or sync_meta(), and
/// the file is consistent at any crash point. What a reply promises is the
/// journal's (transport/store.hpp): full flushes it before replying, meta
/// after, none once a second.
enum class SyncMode {
  full,  ///< an acknowledged change survives power loss
  meta,  ///< an OS crash or power loss may lose the last turn's changes
  none,  ///< an OS crash may lose up to about a second. A process crash loses nothing.
};

struct EnvOptions {
  std::filesystem::path dir;
  std::size_t map_size = std::size_t{1} << 30;  ///< bytes: the map at start; grow() enlarges it
  std::uint64_t map_max = 0;  ///< the most grow() takes the map to (0: what the disk has free)
  SyncMode sync = SyncMode::full;
  bool read_only = false;  ///< tools beside a running broker; takes no write lock
  /// Writable open of an older format this build reads: called with the
  /// version found, in the transaction that marks the store kFormatVersion,
  /// to add what the newer format keeps (the broker passes
  /// domain::upgrade_store). Empty: the mark alone.
  std::function<void(domain::Kv&, std::uint32_t from)> upgrade;
};

class WriteTxn;
class ReadTxn;

class Env {
 public:
  /// Opens (creating when writable and absent) the environment in opts.dir
  /// and checks its format version. Throws FormatError or LmdbError.
  explicit Env(EnvOptions opts);
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  WriteTxn begin_write();
  /// A read transaction. In a reader beside the broker, adopts the map's new
  /// size first when the broker grew it (MDB_MAP_RESIZED); no other
  /// transaction of this process may be open then (mdb_env_set_mapsize).
  ReadTxn begin_read();
  /// Flushes buffers to disk (for SyncMode::none).
  void sync();
  /// Makes durable every commit_deferring_sync() that returned before this
  /// call. Safe to call from another thread than the writer's (it only
  /// syncs the file). Read-only: does nothing.
  void sync_meta();
  /// The map's figures: `used` up to the last page written (pages freed
  /// below it are reused, so it rises only when the store grows), `size`
  /// now, and `limit`, the most it can grow to now: map_max, or what is in
  /// use plus the disk's free space, whichever is less.
  struct MapUsage {
    std::uint64_t used = 0, size = 0, limit = 0;
  };
  MapUsage map_usage();
  /// `used` and `size` only, without asking the file system (cheap).
  MapUsage map_extent();
  /// Doubles the map (up to the limit) when more than 3/4 of it is in use,
  /// or whenever `full` (a commit met MDB_MAP_FULL). Returns whether it grew.
  /// No transaction of this process may be open (mdb_env_set_mapsize).
  bool grow(bool full = false);
  const EnvOptions& options() const { return opts_; }

  MDB_env* raw() { return env_; }
  /// The LMDB database holding `t` (kSharedDbName's when shares_db(t): its
  /// keys there carry the one-byte prefix char(t)).
  MDB_dbi dbi(domain::Table t) const { return dbis_[static_cast<std::size_t>(t)]; }

 private:
  friend class WriteTxn;
  void open_databases(MDB_txn* txn);
  void check_version(const std::string& format) const;
  void write_zeros_ahead();
  /// Whether `key` sorts after every key of t's own database, so that it
  /// can go in with MDB_APPEND, which skips the search down the tree.
  bool above_last(MDB_txn* txn, domain::Table t, std::string_view key);
  void note_put(domain::Table t, std::string_view key);
  void forget_last(domain::Table t);

  EnvOptions opts_;
  MDB_env* env_ = nullptr;
  int lock_fd_ = -1;  ///< flock on DIR/broker.lock while a writable Env is open
  std::array<MDB_dbi, domain::kTableCount> dbis_{};
  // Durable modes keep the data file written (zeros) ahead of LMDB's last
  // page, so that a commit's fdatasync never has to journal a size or extent
  // change too: see write_zeros_ahead. -1: not done (read-only).
  int data_fd_ = -1;
  std::uint64_t page_size_ = 0;
  std::uint64_t zeroed_to_ = 0;  ///< the data file is written up to here
  std::uint64_t last_used_ = 0;  ///< LMDB's end at the previous write_zeros_ahead
  // Per own database, a key no stored key is above (empty: not read yet).
  // Every put raises it and nothing lowers it: an erase or an aborted
  // transaction leaves it above the last key still, which is all
  // above_last needs. Jobs, notices, finished jobs and per-datasource
  // requests mostly arrive in key order, and then skip their search.
  std::array<std::optional<std::string>, domain::kTableCount> last_bound_{};
};

/// A write transaction and the domain's Kv over it. Aborts in the
/// destructor unless committed. Move-only.
class WriteTxn final : public domain::Kv {
 public:
  WriteTxn(Env& env, MDB_txn* txn) : env_(&env), txn_(txn) {}
  WriteTxn(WriteTxn&& o) noexcept : env_(o.env_), txn_(o.txn_) { o.txn_ = nullptr; }
  WriteTxn& operator=(WriteTxn&&) = delete;
  ~WriteTxn() override { abort(); }

  /// Commits. In SyncMode::full the commit is durable when this returns.
  void commit();
  /// Commits with the data pages synced and the meta page written but not
  /// yet synced, which the next commit or Env::sync_meta() does. A crash
  /// before it loses this commit, never consistency (MDB_NOMETASYNC).
  void commit_deferring_sync();
  void abort() noexcept;
  /// Hands the transaction back, neither committed nor aborted.
  MDB_txn* release() noexcept {
    MDB_txn* t = txn_;
    txn_ = nullptr;
    return t;
  }

  std::optional<std::string> get(domain::Table t, std::string_view key) override;
  void put(domain::Table t, std::string_view key, std::string_view value) override;
  void append(domain::Table t, std::string_view key, std::string_view value) override;
  bool erase(domain::Table t, std::string_view key) override;
  std::size_t erase_prefix(domain::Table t, std::string_view prefix) override;
  void scan(domain::Table t, std::string_view from, const domain::Visitor& visit) override;
  std::optional<domain::Entry> last_before(domain::Table t, std::string_view below) override;

  MDB_txn* raw() { return txn_; }

 private:
  Env* env_;
  MDB_txn* txn_;
};

/// A read-only snapshot. Writes through its Kv throw. Move-only.
class ReadTxn final : public domain::Kv {
 public:
  ReadTxn(Env& env, MDB_txn* txn) : env_(&env), txn_(txn) {}
  ReadTxn(ReadTxn&& o) noexcept : env_(o.env_), txn_(o.txn_) { o.txn_ = nullptr; }
  ReadTxn& operator=(ReadTxn&&) = delete;
  ~ReadTxn() override;

  std::optional<std::string> get(domain::Table t, std::string_view key) override;
  void put(domain::Table, std::string_view, std::string_view) override { read_only(); }
  void append(domain::Table, std::string_view, std::string_view) override { read_only(); }
  bool erase(domain::Table, std::string_view) override { read_only(); }
  std::size_t erase_prefix(domain::Table, std::string_view) override { read_only(); }
  void scan(domain::Table t, std::string_view from, const domain::Visitor& visit) override;
  std::optional<domain::Entry> last_before(domain::Table t, std::string_view below) override;

 private:
  [[noreturn]] static void read_only() { throw std::logic_error("write through a read transaction"); }
  Env* env_;
  MDB_txn* txn_;
};

}  // namespace ledgerq::storage
