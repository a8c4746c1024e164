#include "store.hpp"

#include <spdlog/spdlog.h>

#include "domain/machine.hpp"
#include "domain/must.hpp"
#include "domain/view.hpp"
#include "syncer.hpp"

namespace ledgerq::transport {
namespace {

void each_entry(const storage::Journal::Record& r, const std::function<void(std::string_view, std::string_view)>& f) {
  if (!storage::decode_entries(r.payload, f))
    throw domain::CorruptStore("corrupt store: journal record " + std::to_string(r.seq) + " does not decode");
}

}  // namespace

Store::Store(storage::Env& env, std::uint64_t journal_bytes)
    : env_(env), journal_(storage::open_journal_file(storage::journal_path(env.options().dir)), journal_bytes) {
  {
    auto txn = env_.begin_write();
    committed_ = stored_position(txn);
    auto records = journal_.recover(committed_.seq, committed_.offset);
    if (!records.empty()) {
      recovered_records_ = records.size();
      recovered_entries_ = apply_records(txn, records);
      committed_ = Position{journal_.last_seq(), journal_.end()};
      storage::put_journal_position(txn, {committed_.seq, committed_.offset});
      txn.commit();  // and synced: the journal may start over
    }
  }
  // The meta page LMDB opened with may be one a crashed broker wrote and
  // never synced: durable before the ring reuses what lies behind it.
  env_.sync_meta();
  journal_.release(committed_.seq, committed_.offset);
}

Store::~Store() {
  try {
    checkpoint(true);
  } catch (const std::exception& e) {
    spdlog::error("last checkpoint failed: {}; the journal holds what LMDB lacks, and the next start applies it",
                  e.what());
  }
}

Store::Position Store::stored_position(domain::Kv& kv) const {
  try {
    const auto p = storage::journal_position(kv);
    return Position{p.seq, p.offset};
  } catch (const std::runtime_error& e) {
    throw domain::CorruptStore(e.what());
  }
}

std::uint64_t Store::apply_records(storage::WriteTxn& txn, const std::vector<storage::Journal::Record>& records) {
  domain::View view(txn);
  std::uint64_t n = 0;
  for (const auto& r : records)
    each_entry(r, [&](std::string_view k, std::string_view v) {
      auto applied = domain::replay(view, k, v);
      if (!applied)
        throw domain::CorruptStore("corrupt store: journal record " + std::to_string(r.seq) +
                                   " does not fold into the store: " + applied.error().message);
      ++n;
    });
  view.flush();
  return n;
}

Store::Turn Store::begin_turn() {
  if (!open_) {
    open_.emplace(env_.begin_write());
    opened_at_ = std::chrono::steady_clock::now();
  }
  return Turn(*this);
}

void Store::reopen() {
  open_.emplace(env_.begin_write());
  const Position from = stored_position(*open_);
  apply_records(*open_, journal_.read(from.seq, from.offset));
}

void Store::undo_turn() noexcept {
  try {
    open_.reset();
    try {
      reopen();
    } catch (const storage::LmdbError& e) {
      // The records fitted the map before the failed turn, but LMDB may
      // place their pages otherwise: grow it, once, and try again.
      open_.reset();
      if (e.code() != MDB_MAP_FULL || !env_.grow(true)) throw;
      reopen();
    }
  } catch (const std::exception& e) {
    die_of_storage(e);
  }
}

void Store::journal(const std::vector<domain::Entry>& entries) {
  if (entries.empty()) return;
  const std::string payload = storage::encode_entries(entries);
  if (payload.size() <= journal_.capacity() / 2 && journal_.has_room(payload.size())) {
    // The turn is in the open transaction already: a record that cannot be
    // written leaves it there unjournaled, and the turn must not run again.
    try {
      journal_.append(payload);
    } catch (const std::exception& e) {
      die_of_storage(e);
    }
    return;
  }
  // A turn too big for the ring, or no room left in it: LMDB takes the
  // turn itself, durably (a checkpoint and a sync), and the ring starts
  // over. The turn is in no record, so a failure here cannot be repaired
  // from the journal: the broker ends before anyone is told it is done.
  try {
    checkpoint(true, false);
  } catch (const std::exception& e) {
    die_of_storage(e);
  }
}

bool Store::checkpoint_due() const {
  if (!open_) return false;
  const std::uint64_t unreleased = journal_.unreleased();
  return std::chrono::steady_clock::now() - opened_at_ >= kCheckpointEvery || unreleased >= kCheckpointBytes ||
         journal_.wants_release();
}

void Store::checkpoint(bool durable, bool journaled) {
  if (open_) {
    const Position at{journal_.last_seq(), journal_.end()};
    const bool moved = at.seq != committed_.seq;
    for (int attempt = 0;; ++attempt) {
      try {
        // Its position only when records came since: a transaction that
        // changed nothing commits without writing (or syncing) a page.
        if (moved) storage::put_journal_position(*open_, {at.seq, at.offset});
        open_->commit_deferring_sync();  // the data pages synced: the last commit's meta page with them
        open_.reset();
        break;
      } catch (const storage::LmdbError& e) {
        // The commit needed pages the map does not have (LMDB freed the
        // transaction): grow the map and build the transaction again from
        // the journal, which holds every record since the last checkpoint.
        open_.reset();
        if (e.code() != MDB_MAP_FULL || attempt > 0 || !journaled || !env_.grow(true)) throw;
        spdlog::info("map grew to {} MiB for a checkpoint", env_.map_extent().size >> 20);
        reopen();
      }
    }
    if (moved) {
      // This commit wrote pages, and its data sync made the last commit's
      // meta page durable: the ring may reuse what that position covers.
      if (undurable_) journal_.release(undurable_->seq, undurable_->offset);
      undurable_ = at;
    }
    committed_ = at;
  }
  if (durable) {
    env_.sync_meta();  // this commit's meta page (a turn in no record depends on it)
    if (undurable_) journal_.release(undurable_->seq, undurable_->offset);
    undurable_.reset();
  }
}

}  // namespace ledgerq::transport
