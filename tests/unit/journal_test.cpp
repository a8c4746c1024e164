// The journal: records round-trip, the ring recycles what the store
// released, and every crash point recovers a prefix of what was appended
// that holds every record flushed before it. The crash points are replayed
// from a recorded history of the journal's writes and flushes, with the
// writes after the last flush dropped, kept or torn (the approach of
// crash-consistency checkers such as ALICE and CrashMonkey).
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/broker_process.hpp"
#include "storage/journal.hpp"

namespace ledgerq::storage {
namespace {

// A file in memory. Shared, so that a test can reopen "the same file".
struct MemFile final : JournalFile {
  std::shared_ptr<std::string> bytes = std::make_shared<std::string>();
  std::uint64_t size() override { return bytes->size(); }
  std::string read(std::uint64_t offset, std::size_t n) override {
    if (offset >= bytes->size()) return {};
    return bytes->substr(offset, n);
  }
  void write(std::uint64_t offset, std::string_view b) override {
    if (bytes->size() < offset + b.size()) bytes->resize(offset + b.size(), '\0');
    bytes->replace(offset, b.size(), b);
  }
  void flush() override {}
};

// Every write and flush, in order.
struct Op {
  bool flush = false;
  std::uint64_t offset = 0;
  std::string bytes;
};
struct RecordingFile final : JournalFile {
  MemFile file;
  std::shared_ptr<std::vector<Op>> ops = std::make_shared<std::vector<Op>>();
  std::uint64_t size() override { return file.size(); }
  std::string read(std::uint64_t offset, std::size_t n) override { return file.read(offset, n); }
  void write(std::uint64_t offset, std::string_view b) override {
    ops->push_back(Op{false, offset, std::string(b)});
    file.write(offset, b);
  }
  void flush() override { ops->push_back(Op{true, 0, {}}); }
};

std::unique_ptr<MemFile> reopen(const MemFile& f) {
  auto m = std::make_unique<MemFile>();
  m->bytes = f.bytes;
  return m;
}

std::string payload_of(std::uint64_t seq, std::size_t n) {
  std::string p(n, '\0');
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<char>('a' + (seq * 7 + i) % 26);
  return p;
}

TEST(Crc32c, KnownAnswersAndTheFastPathAgreesWithTheTableAtEveryLengthAndSplit) {
  // RFC 3720 (iSCSI) B.4 and the usual check value.
  EXPECT_EQ(crc32c("123456789"), 0xe3069283u);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8a9136aau);
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62a8ab43u);
  EXPECT_EQ(crc32c_portable("123456789"), 0xe3069283u);
  std::mt19937 rng(7);
  std::string bytes(300, '\0');
  for (auto& c : bytes) c = static_cast<char>(rng());
  for (std::size_t n = 0; n <= bytes.size(); ++n) {
    const std::string_view v(bytes.data(), n);
    ASSERT_EQ(crc32c(v), crc32c_portable(v)) << n;
    const std::size_t half = n / 3;  // continued from a first part, as a record's header then payload
    ASSERT_EQ(crc32c(v.substr(half), crc32c(v.substr(0, half))), crc32c_portable(v)) << n;
  }
}

TEST(Journal, RecordsReadBackAfterTheStoresPosition) {
  auto f = std::make_unique<MemFile>();
  MemFile* file = f.get();
  Journal j(std::move(f), 4096);
  EXPECT_TRUE(j.recover(0, 0).empty());
  EXPECT_EQ(j.append("one"), 1u);
  const std::uint64_t after_one = j.end();
  EXPECT_EQ(j.append("two"), 2u);
  EXPECT_EQ(j.append(std::string(1000, 'x')), 3u);
  j.flush();

  auto all = Journal(reopen(*file), 4096).recover(0, 0);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].payload, "one");
  EXPECT_EQ(all[2].payload, std::string(1000, 'x'));

  Journal again(reopen(*file), 4096);
  auto rest = again.recover(1, after_one);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].seq, 2u);
  EXPECT_EQ(again.last_seq(), 3u);
  EXPECT_EQ(again.append("four"), 4u);  // goes on after the last record
}

TEST(Journal, AFlippedByteEndsTheJournalThere) {
  auto f = std::make_unique<MemFile>();
  MemFile* file = f.get();
  Journal j(std::move(f), 4096);
  j.recover(0, 0);
  j.append("first");
  const std::uint64_t second = j.end();
  j.append("second");
  j.append("third");
  (*file->bytes)[second + Journal::kHeaderBytes + 2] ^= 0x10;
  auto got = Journal(reopen(*file), 4096).recover(0, 0);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "first");
}

TEST(Journal, TheRingReusesWhatTheStoreReleasedAndRefusesTheRest) {
  auto f = std::make_unique<MemFile>();
  MemFile* file = f.get();
  const std::uint64_t ring = 400;
  Journal j(std::move(f), ring);
  j.recover(0, 0);
  // The store's position: the last seq it holds and where the next starts.
  std::uint64_t held = 0, at = 0;
  std::uint64_t laps = 0, last_end = 0;
  for (std::uint64_t i = 0; i < 200; ++i) {
    const std::string p = payload_of(i, 20 + i % 37);
    if (!j.has_room(p.size())) {
      EXPECT_THROW(j.append(p), std::logic_error);
      held = j.last_seq();  // the store catches up
      at = j.end();
      j.release(held, at);
      ASSERT_TRUE(j.has_room(p.size()));
    }
    j.append(p);
    if (j.end() < last_end) ++laps;
    last_end = j.end();
    // A reader from the store's position finds exactly what it lacks.
    auto got = Journal(reopen(*file), ring).recover(held, at);
    ASSERT_EQ(got.size(), j.last_seq() - held) << "after record " << j.last_seq();
    for (std::size_t k = 0; k < got.size(); ++k) {
      EXPECT_EQ(got[k].seq, held + 1 + k);
      EXPECT_EQ(got[k].payload, payload_of(held + k, 20 + (held + k) % 37));
    }
    if (i % 3 == 0) {  // now and then the store catches up by itself
      held = j.last_seq();
      at = j.end();
      j.release(held, at);
    }
  }
  EXPECT_GT(laps, 10u);
  EXPECT_EQ(file->bytes->size(), ring);  // recycled, never grown
}

TEST(Journal, ARecordBiggerThanTheRingGrowsTheFile) {
  auto f = std::make_unique<MemFile>();
  MemFile* file = f.get();
  Journal j(std::move(f), 256);
  j.recover(0, 0);
  j.append("small");
  EXPECT_FALSE(j.has_room(1000));
  j.release(1, j.end());
  const std::uint64_t at = j.end();
  j.append(std::string(1000, 'b'));
  EXPECT_GE(file->bytes->size(), 1000u);
  auto got = Journal(reopen(*file), 256).recover(1, at);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, std::string(1000, 'b'));
}

// A record that would wrap to 0 and reach past the wrap mark a reader
// starting at the store's position needs is written in place instead.
TEST(Journal, ARecordNeverCoversTheWrapMarkItsReaderStartsAt) {
  auto f = std::make_unique<MemFile>();
  MemFile* file = f.get();
  Journal j(std::move(f), 1000);
  j.recover(0, 0);
  j.append(std::string(453, 'a'));  // ends at 477
  const std::uint64_t at = j.end();
  ASSERT_EQ(at, 477u);
  j.release(1, at);
  j.append(std::string(500, 'b'));  // 524 bytes: past the end, and past 477 from 0
  auto got = Journal(reopen(*file), 1000).recover(1, at);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, std::string(500, 'b'));
}

TEST(Journal, AFileOnDiskRecoversAfterReopening) {
  tools::TempDir dir;
  {
    Journal j(open_journal_file(dir.path() / "journal"), 1 << 16);
    j.recover(0, 0);
    j.append("on disk");
    j.flush();
  }
  Journal j(open_journal_file(dir.path() / "journal"), 1 << 16);
  auto got = j.recover(0, 0);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "on disk");
  EXPECT_EQ(std::filesystem::file_size(dir.path() / "journal"), 1u << 16);  // written ahead with zeros
}

// One run of appends, flushes and releases, recorded; then every crash
// point replayed several ways.
TEST(Journal, EveryCrashPointRecoversAPrefixHoldingEveryFlushedRecord) {
  auto f = std::make_unique<RecordingFile>();
  auto ops = f->ops;
  const std::uint64_t ring = 600;
  Journal j(std::move(f), ring);
  j.recover(0, 0);
  std::mt19937 rng(7);
  std::vector<std::string> sent{""};  // by seq
  // What was true after each op: the last seq appended, the last seq
  // flushed, and the store's position (durable when release is called).
  struct State {
    std::uint64_t appended = 0, flushed = 0, held = 0, at = 0;
  };
  std::vector<State> after(ops->size(), State{});
  State now;
  auto note = [&] {
    after.resize(ops->size(), now);
  };
  note();
  for (int i = 0; i < 120; ++i) {
    const std::string p = payload_of(j.last_seq() + 1, 1 + rng() % (rng() % 4 ? 90 : 276));  // up to half the ring
    if (!j.has_room(p.size()) || rng() % 5 == 0) {  // the store catches up (its own flush is durable)
      now.held = j.last_seq();
      now.at = j.end();
      j.release(now.held, now.at);
      ASSERT_TRUE(j.has_room(p.size()));
    }
    j.append(p);
    sent.push_back(p);
    now.appended = j.last_seq();
    note();
    if (rng() % 3 == 0) {
      j.flush();
      now.flushed = now.appended;
      note();
    }
  }

  std::size_t images = 0;
  for (std::size_t k = 0; k < ops->size(); ++k) {
    std::size_t last_flush = 0;  // ops before it are on disk
    for (std::size_t i = 0; i <= k; ++i)
      if ((*ops)[i].flush) last_flush = i + 1;
    for (int variant = 0; variant < 6; ++variant) {
      MemFile disk;
      for (std::size_t i = 0; i < last_flush; ++i)
        if (!(*ops)[i].flush) disk.write((*ops)[i].offset, (*ops)[i].bytes);
      std::mt19937 pick(static_cast<unsigned>(k * 31 + static_cast<std::size_t>(variant)));
      for (std::size_t i = last_flush; i <= k; ++i) {
        const Op& op = (*ops)[i];
        if (op.flush) continue;
        // 0: every unflushed write lost; 1: all kept; others: each kept,
        // lost, or torn (a prefix of it, or a few bytes of it, kept).
        const int how = variant == 0 ? 0 : variant == 1 ? 1 : static_cast<int>(pick() % 4);
        if (how == 1) disk.write(op.offset, op.bytes);
        if (how == 2) disk.write(op.offset, op.bytes.substr(0, pick() % (op.bytes.size() + 1)));
        if (how == 3)
          for (std::size_t b = 0; b < op.bytes.size(); ++b)
            if (pick() % 2) disk.write(op.offset + b, op.bytes.substr(b, 1));
      }
      const State s = after[k];
      auto got = Journal(reopen(disk), ring).recover(s.held, s.at);
      ++images;
      ASSERT_GE(s.held + got.size(), s.flushed) << "crash after op " << k << ", variant " << variant;
      ASSERT_LE(s.held + got.size(), s.appended) << "crash after op " << k;
      for (std::size_t r = 0; r < got.size(); ++r) {
        ASSERT_EQ(got[r].seq, s.held + 1 + r);
        ASSERT_EQ(got[r].payload, sent[got[r].seq]) << "crash after op " << k << ": record " << got[r].seq;
      }
    }
  }
  EXPECT_GT(images, 500u);
}

}  // namespace
}  // namespace ledgerq::storage
