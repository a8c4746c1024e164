// The store as the loop writes it: LMDB written behind the journal.
//
// Each turn writes straight into one open LMDB write transaction, so the
// next turn reads what the last one wrote. A turn that fails part-way has
// left writes there that no record holds: the open transaction is then
// aborted and built again from the journal's records since the last
// checkpoint, which hold every turn that succeeded (a rare path; LMDB's
// nested transactions would undo a turn alone, but they copy every page a
// turn touches and searched the parent's dirty list on each, a fifth of the
// broker's CPU under load). The turn's log entries become one journal
// record; the reply waits for the journal's flush, not for LMDB. The open
// transaction commits to LMDB (a checkpoint) every kCheckpointEvery while
// busy, once the loop is idle, when the journal's unreleased records pass
// kCheckpointBytes or half its ring, and before the map grows. LMDB's meta
// holds, in the same commit, the last journal seq the store contains and
// where the record after it starts; the journal reuses a record's space
// only once that commit is durable. At start, the records after that
// position are applied again (domain::replay), so a crash loses nothing
// the journal holds. LMDB commits with MDB_NOMETASYNC: its file is
// consistent at any crash point, at or behind the journal. Tools that read
// LMDB beside the broker see it as of the last checkpoint.
//
// Threads: the loop's, except flush(), which the Syncer runs beside it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "domain/kv.hpp"
#include "storage/journal.hpp"
#include "storage/lmdb_env.hpp"

namespace ledgerq::transport {

class Store {
 public:
  static constexpr auto kCheckpointEvery = std::chrono::milliseconds(200);
  static constexpr std::uint64_t kCheckpointBytes = std::uint64_t{16} << 20;

  /// Opens the journal in the environment's directory and applies the
  /// records LMDB lacks (committed durably before this returns). Throws
  /// domain::CorruptStore when a record does not fold into the store.
  Store(storage::Env& env, std::uint64_t journal_bytes = storage::Journal::kDefaultCapacity);
  /// A final checkpoint, synced: LMDB holds everything.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  /// One turn's writes, into the open transaction (begun when needed).
  /// commit() keeps them; a Turn that ends without it (an exception)
  /// undoes them: the open transaction is built again from the journal.
  class Turn {
   public:
    explicit Turn(Store& s) : store_(&s) {}
    Turn(const Turn&) = delete;
    Turn& operator=(const Turn&) = delete;
    ~Turn() {
      if (store_) store_->undo_turn();
    }
    domain::Kv& kv() { return *store_->open_; }
    void commit() { store_ = nullptr; }

   private:
    Store* store_;
  };
  Turn begin_turn();
  /// The turn committed into the open transaction: its log entries (as the
  /// View captured them) become the journal's next record, unless there
  /// are none. Not durable before flush(). A turn bigger than half the
  /// ring, or one the ring has no room for, goes to LMDB instead, in a
  /// durable checkpoint.
  void journal(const std::vector<domain::Entry>& entries);
  /// fdatasync of the journal: every record appended before is durable.
  void flush() { journal_.flush(); }

  /// Commits the open transaction to LMDB, if any. `durable`: and syncs
  /// its meta page, so that the journal may reuse all it holds. When the
  /// commit meets MDB_MAP_FULL, grows the map and builds the transaction
  /// again from the journal, which holds every turn in it (`journaled`).
  /// Other failures throw: the open transaction is lost, and with it turns
  /// that only the journal holds, so the caller must end the process (the
  /// next start applies them).
  void checkpoint(bool durable = false, bool journaled = true);
  /// Whether a checkpoint is due while busy (time or bytes).
  bool checkpoint_due() const;
  bool open() const { return open_.has_value(); }

  /// Records and log entries applied again at start.
  std::uint64_t recovered_records() const { return recovered_records_; }
  std::uint64_t recovered_entries() const { return recovered_entries_; }

 private:
  struct Position {
    std::uint64_t seq = 0, offset = 0;
  };
  Position stored_position(domain::Kv& kv) const;
  // Applies the journal's records after `from` into `txn`; returns how many entries.
  std::uint64_t apply_records(storage::WriteTxn& txn, const std::vector<storage::Journal::Record>& records);
  // The open transaction as of the last journaled turn: aborted, and begun
  // again with the records since the last checkpoint applied. Ends the
  // process when that cannot be done (the records are then applied at the
  // next start).
  void undo_turn() noexcept;
  // Begins the open transaction with the records since the last checkpoint.
  void reopen();

  storage::Env& env_;
  storage::Journal journal_;
  std::optional<storage::WriteTxn> open_;
  std::chrono::steady_clock::time_point opened_at_{};
  Position committed_;                 // in the last checkpoint, durable or not
  std::optional<Position> undurable_;  // committed_, until a later commit syncs its meta page
  std::uint64_t recovered_records_ = 0, recovered_entries_ = 0;
};

}  // namespace ledgerq::transport
