// The journal: the broker's durability device. Each turn's log entries are
// appended to one file as a checksummed record and flushed once (one
// fdatasync of blocks written ahead with zeros, so the flush carries no
// size or extent change); the LMDB store is written behind it and may lag.
// On start, the records after the store's last applied one are applied
// again. A record that did not reach the disk whole (a crash during its
// write: never acknowledged) ends the journal there.
//
// File layout: a ring of records, each
//   u32 magic | u32 payload length | u64 seq | u32 crc32c | u32 0 | payload
// (little-endian; the crc over the magic, the length, the seq and the
// payload). Seqs rise by one from record to record. A record that would not
// fit before the end of the file goes at offset 0, after a wrap mark (a
// header with magic "LQJW", no payload, and the seq of that next record)
// where it would have started, unless fewer than a header's bytes are left.
// The store keeps, with its last applied seq, the offset of the record
// after it: reading starts there, and stops at the first record that is not
// whole or not the next seq (an older lap of the ring, or zeros).
//
// Threads: one writer; flush() may run on another thread than append()
// (it only syncs the file), but not at the same time as recover().
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "domain/kv.hpp"

namespace ledgerq::storage {

/// The journal's file, behind a seam: tests replace it to record every
/// write and flush and replay what a crash could have left on disk.
class JournalFile {
 public:
  virtual ~JournalFile() = default;
  /// Current length in bytes.
  virtual std::uint64_t size() = 0;
  /// Reads up to `n` bytes at `offset`; fewer at the end of the file.
  virtual std::string read(std::uint64_t offset, std::size_t n) = 0;
  virtual void write(std::uint64_t offset, std::string_view bytes) = 0;
  /// Makes every write before it durable (fdatasync).
  virtual void flush() = 0;
};

/// The journal file at `path`, created when absent. Throws std::system_error.
std::unique_ptr<JournalFile> open_journal_file(const std::filesystem::path& path);
/// For a reader beside the broker: the file opened read-only, or null when
/// there is none.
std::unique_ptr<JournalFile> open_journal_file_to_read(const std::filesystem::path& path);

/// The journal's file in a store's directory.
inline std::filesystem::path journal_path(const std::filesystem::path& dir) { return dir / "journal"; }

/// Where the store stands in the journal: the last seq it holds and the
/// offset of the record after it. Kept in meta["journal"], written in the
/// same transaction as what it describes. A store that never had a journal
/// stands at {0, 0}.
struct JournalPosition {
  std::uint64_t seq = 0, offset = 0;
};
/// Throws std::runtime_error when the stored value is malformed.
JournalPosition journal_position(domain::Kv& kv);
void put_journal_position(domain::Kv& kv, JournalPosition p);

/// A turn's record: its log entries (key, value) as the store's log holds
/// them. u32 count, then per entry u32 key length, key, u32 value length,
/// value (little-endian).
std::string encode_entries(const std::vector<domain::Entry>& entries);
/// Calls `f` with each entry of a record; false when it does not decode
/// (then `f` may have seen a part of it).
bool decode_entries(std::string_view payload, const std::function<void(std::string_view, std::string_view)>& f);

/// CRC-32C (Castagnoli) of `bytes`, continuing from `crc`: with the CPU's
/// instruction where it has one (x86-64 SSE 4.2), else from a table.
std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc = 0);
/// The same from the table alone, on any CPU.
std::uint32_t crc32c_portable(std::string_view bytes, std::uint32_t crc = 0);

class Journal {
 public:
  struct Record {
    std::uint64_t seq = 0;
    std::string payload;
  };
  static constexpr std::size_t kHeaderBytes = 24;
  static constexpr std::uint64_t kDefaultCapacity = std::uint64_t{64} << 20;

  /// Over `file`, kept written with zeros to `capacity` bytes at least.
  Journal(std::unique_ptr<JournalFile> file, std::uint64_t capacity = kDefaultCapacity);

  /// Reads the records after `applied`, starting at `offset` (where the
  /// store says the record after `applied` is), in order, and places the
  /// next append after the last of them. Call once, before append().
  std::vector<Record> recover(std::uint64_t applied, std::uint64_t offset);
  /// The records after `applied` from `offset`, as recover() reads them,
  /// changing nothing (what is written but not flushed included).
  std::vector<Record> read(std::uint64_t applied, std::uint64_t offset, std::uint64_t* end = nullptr) const;

  /// Whether a record of `payload_bytes` fits in the ring without
  /// overwriting a record the store does not hold yet (release()).
  bool has_room(std::size_t payload_bytes) const;
  /// Writes a record with the next seq and returns that seq; it is durable
  /// once flush() returns. Without room, the caller must first make the
  /// store hold every record and release() them: then any record fits
  /// (the file grows for one bigger than the ring). Throws std::logic_error
  /// otherwise.
  std::uint64_t append(std::string_view payload);
  /// fdatasync: every record appended before is durable.
  void flush();
  /// The store holds every record up to `seq` durably, and the record after
  /// it starts at `offset` (end() when `seq` was appended): the ring may
  /// reuse what lies before.
  void release(std::uint64_t seq, std::uint64_t offset);

  /// The last seq appended (or recovered).
  std::uint64_t last_seq() const { return last_seq_; }
  /// Where the next record goes (before any wrap).
  std::uint64_t end() const { return end_; }
  std::uint64_t capacity() const { return capacity_; }
  /// Bytes of the records the store does not hold yet.
  std::uint64_t unreleased() const { return unreleased_; }
  /// True when the store should catch up (commit and release) soon: the
  /// records it does not hold yet fill half the ring.
  bool wants_release() const { return unreleased_ > capacity_ / 2; }

  /// Encodes one record, as append() writes it (for tests).
  static std::string encode(std::uint64_t seq, std::string_view payload, bool wrap_mark = false);

 private:
  void zero_fill(std::uint64_t to);

  std::unique_ptr<JournalFile> file_;
  std::uint64_t capacity_;          // the ring's size: the file's, once written with zeros
  std::uint64_t end_ = 0;           // where the next record goes
  std::uint64_t last_seq_ = 0;
  std::uint64_t released_seq_ = 0;  // the store holds every record up to it
  std::uint64_t start_ = 0;         // where the record after released_seq_ starts
  std::uint64_t unreleased_ = 0;    // bytes from start_ to end_, around the ring
  bool recovered_ = false;
};

}  // namespace ledgerq::storage
