#include "journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace ledgerq::storage {
namespace {

constexpr std::uint32_t kRecordMagic = 0x314a514c;  // "LQJ1"
constexpr std::uint32_t kWrapMagic = 0x574a514c;    // "LQJW"
constexpr std::size_t kZeroChunk = std::size_t{1} << 20;
// A record's payload is at most this: a turn's log entries are far smaller
// (a turn holds at most batch_max requests of about a MiB each).
constexpr std::uint32_t kMaxPayload = std::uint32_t{2} << 30;

void put32(std::string& s, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put64(std::string& s, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::uint64_t get(std::string_view s, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<std::size_t>(i)]);
  return v;
}

constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr auto kCrcTable = make_crc_table();

// The checksum of a header's first 16 bytes and the payload.
std::uint32_t checksum(std::string_view head16, std::string_view payload) {
  return crc32c(payload, crc32c(head16));
}

class PosixJournalFile final : public JournalFile {
 public:
  PosixJournalFile(const std::filesystem::path& path, bool read_only) {
    fd_ = read_only ? ::open(path.c_str(), O_RDONLY | O_CLOEXEC) : ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot open journal " + path.string());
  }
  ~PosixJournalFile() override { ::close(fd_); }

  std::uint64_t size() override {
    const off_t end = ::lseek(fd_, 0, SEEK_END);
    if (end < 0) throw std::system_error(errno, std::generic_category(), "journal: lseek");
    return static_cast<std::uint64_t>(end);
  }
  std::string read(std::uint64_t offset, std::size_t n) override {
    std::string out(n, '\0');
    std::size_t got = 0;
    while (got < n) {
      const ssize_t r = ::pread(fd_, out.data() + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw std::system_error(errno, std::generic_category(), "journal: read");
      if (r == 0) break;
      got += static_cast<std::size_t>(r);
    }
    out.resize(got);
    return out;
  }
  void write(std::uint64_t offset, std::string_view bytes) override {
    std::size_t put = 0;
    while (put < bytes.size()) {
      const ssize_t r = ::pwrite(fd_, bytes.data() + put, bytes.size() - put, static_cast<off_t>(offset + put));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw std::system_error(errno, std::generic_category(), "journal: write");
      put += static_cast<std::size_t>(r);
    }
  }
  void flush() override {
    while (::fdatasync(fd_) != 0)
      if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "journal: fdatasync");
  }

 private:
  int fd_ = -1;
};

}  // namespace

std::uint32_t crc32c_portable(std::string_view bytes, std::uint32_t crc) {
  crc = ~crc;
  for (unsigned char b : bytes) crc = kCrcTable[(crc ^ b) & 0xff] ^ (crc >> 8);
  return ~crc;
}

#if defined(__x86_64__)
// SSE 4.2's crc32 instruction computes CRC-32C, 8 bytes a step: a turn's
// record is checksummed in a tenth of the table's time.
__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42(std::string_view bytes, std::uint32_t crc) {
  std::uint64_t c = ~crc;
  const char* p = bytes.data();
  std::size_t n = bytes.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    c = __builtin_ia32_crc32di(c, word);
  }
  auto c32 = static_cast<std::uint32_t>(c);
  for (; n > 0; ++p, --n) c32 = __builtin_ia32_crc32qi(c32, static_cast<unsigned char>(*p));
  return ~c32;
}
#endif

std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc) {
#if defined(__x86_64__)
  static const bool sse42 = __builtin_cpu_supports("sse4.2");
  if (sse42) return crc32c_sse42(bytes, crc);
#endif
  return crc32c_portable(bytes, crc);
}

std::unique_ptr<JournalFile> open_journal_file(const std::filesystem::path& path) {
  return std::make_unique<PosixJournalFile>(path, false);
}

std::unique_ptr<JournalFile> open_journal_file_to_read(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return nullptr;
  return std::make_unique<PosixJournalFile>(path, true);
}

namespace {
constexpr std::string_view kPositionKey = "journal";  // in meta
}  // namespace

JournalPosition journal_position(domain::Kv& kv) {
  auto v = kv.get(domain::Table::meta, kPositionKey);
  if (!v) return {};
  if (v->size() != 16) throw std::runtime_error("corrupt store: meta journal position of " + std::to_string(v->size()) + " bytes");
  return JournalPosition{get(*v, 0, 8), get(*v, 8, 8)};
}

void put_journal_position(domain::Kv& kv, JournalPosition p) {
  std::string v;
  put64(v, p.seq);
  put64(v, p.offset);
  kv.put(domain::Table::meta, kPositionKey, v);
}

std::string encode_entries(const std::vector<domain::Entry>& entries) {
  std::size_t n = 4;
  for (const auto& [k, v] : entries) n += 8 + k.size() + v.size();
  std::string s;
  s.reserve(n);
  put32(s, static_cast<std::uint32_t>(entries.size()));
  for (const auto& [k, v] : entries) {
    put32(s, static_cast<std::uint32_t>(k.size()));
    s.append(k);
    put32(s, static_cast<std::uint32_t>(v.size()));
    s.append(v);
  }
  return s;
}

bool decode_entries(std::string_view p, const std::function<void(std::string_view, std::string_view)>& f) {
  if (p.size() < 4) return false;
  const auto count = static_cast<std::uint32_t>(get(p, 0, 4));
  std::size_t at = 4;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::string_view part[2];
    for (auto& x : part) {
      if (p.size() - at < 4) return false;
      const auto len = static_cast<std::size_t>(get(p, at, 4));
      at += 4;
      if (p.size() - at < len) return false;
      x = p.substr(at, len);
      at += len;
    }
    f(part[0], part[1]);
  }
  return at == p.size();
}

std::string Journal::encode(std::uint64_t seq, std::string_view payload, bool wrap_mark) {
  std::string s;
  s.reserve(kHeaderBytes + payload.size());
  put32(s, wrap_mark ? kWrapMagic : kRecordMagic);
  put32(s, static_cast<std::uint32_t>(payload.size()));
  put64(s, seq);
  put32(s, checksum(s, payload));
  put32(s, 0);
  s.append(payload);
  return s;
}

Journal::Journal(std::unique_ptr<JournalFile> file, std::uint64_t capacity)
    : file_(std::move(file)), capacity_(capacity) {
  if (capacity_ < 2 * kHeaderBytes) throw std::invalid_argument("journal capacity too small");
}

void Journal::zero_fill(std::uint64_t to) {
  const std::string zeros(kZeroChunk, '\0');
  for (std::uint64_t at = file_->size(); at < to;) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kZeroChunk, to - at));
    file_->write(at, std::string_view(zeros).substr(0, n));
    at += n;
  }
  file_->flush();  // the file's new size is durable before any record relies on it
}

std::vector<Journal::Record> Journal::read(std::uint64_t applied, std::uint64_t offset, std::uint64_t* end) const {
  const std::uint64_t file_size = file_->size();
  std::vector<Record> out;
  std::uint64_t expected = applied + 1;
  std::uint64_t pos = offset;
  bool wrapped = false;
  for (;;) {
    if (pos + kHeaderBytes > file_size) {  // no room for a header: the ring goes on at 0
      if (wrapped || pos == 0) break;
      pos = 0;
      wrapped = true;
    }
    const std::string head = file_->read(pos, kHeaderBytes);
    if (head.size() < kHeaderBytes) break;
    const auto magic = static_cast<std::uint32_t>(get(head, 0, 4));
    const auto len = static_cast<std::uint32_t>(get(head, 4, 4));
    const std::uint64_t seq = get(head, 8, 8);
    const auto crc = static_cast<std::uint32_t>(get(head, 16, 4));
    if (seq != expected || (magic != kRecordMagic && magic != kWrapMagic)) break;
    if (magic == kWrapMagic) {
      if (len != 0 || crc != checksum(std::string_view(head).substr(0, 16), {}) || wrapped || pos == 0) break;
      pos = 0;
      wrapped = true;
      continue;
    }
    if (len > kMaxPayload || pos + kHeaderBytes + len > file_size) break;
    std::string payload = file_->read(pos + kHeaderBytes, len);
    if (payload.size() != len || crc != checksum(std::string_view(head).substr(0, 16), payload)) break;
    out.push_back(Record{seq, std::move(payload)});
    ++expected;
    pos += kHeaderBytes + len;
    wrapped = false;  // a wrap is allowed again after a record
  }
  if (end) *end = pos;
  return out;
}

std::vector<Journal::Record> Journal::recover(std::uint64_t applied, std::uint64_t offset) {
  // The ring is the whole file: it may have grown past the capacity asked
  // for (a record bigger than the ring) in an earlier run.
  const std::uint64_t file_size = file_->size();
  std::uint64_t pos = offset;
  std::vector<Record> out = read(applied, offset, &pos);
  const std::uint64_t expected = applied + 1 + out.size();
  capacity_ = std::max(capacity_, file_size);
  if (file_size < capacity_) zero_fill(capacity_);
  last_seq_ = expected - 1;
  released_seq_ = applied;
  end_ = pos;
  start_ = offset;
  unreleased_ = 0;
  recovered_ = true;
  if (!out.empty()) unreleased_ = end_ >= start_ ? end_ - start_ : capacity_ - start_ + end_;
  return out;
}

bool Journal::has_room(std::size_t payload_bytes) const {
  const std::uint64_t rec = kHeaderBytes + payload_bytes;
  if (unreleased_ == 0) return true;
  const bool wrapped = end_ <= start_;  // equal: the ring is full
  if (wrapped) return end_ + rec <= start_;
  if (end_ + rec <= capacity_) return true;
  return rec <= start_;  // at 0, after a wrap mark
}

std::uint64_t Journal::append(std::string_view payload) {
  if (!recovered_) throw std::logic_error("journal: recover() before append()");
  if (payload.size() > kMaxPayload) throw std::length_error("journal record too big");
  if (!has_room(payload.size())) throw std::logic_error("journal full: the store must catch up first");
  const std::uint64_t rec = kHeaderBytes + payload.size();
  const std::uint64_t seq = last_seq_ + 1;
  if (unreleased_ == 0) start_ = end_;
  if (end_ + rec > capacity_) {
    if (rec > capacity_ || (unreleased_ == 0 && rec > end_)) {
      // Bigger than the ring, which holds nothing else (has_room), or, at
      // 0, over the wrap mark a reader starting here needs: the file grows
      // to hold it where it is.
      zero_fill(end_ + rec);
      capacity_ = end_ + rec;
    } else {
      // On at 0. The mark (where there is room for it) tells a reader
      // starting here where the record went; the bytes after it count as
      // used until the store releases this record.
      if (end_ + kHeaderBytes <= capacity_) file_->write(end_, encode(seq, {}, true));
      unreleased_ += capacity_ - end_;
      end_ = 0;
    }
  }
  file_->write(end_, encode(seq, payload));
  end_ += rec;
  unreleased_ += rec;
  last_seq_ = seq;
  return seq;
}

void Journal::flush() { file_->flush(); }

void Journal::release(std::uint64_t seq, std::uint64_t offset) {
  if (seq <= released_seq_) return;
  released_seq_ = seq;
  start_ = offset;
  if (seq >= last_seq_) {
    unreleased_ = 0;
    return;
  }
  unreleased_ = end_ > offset ? end_ - offset : capacity_ - offset + end_;
}

}  // namespace ledgerq::storage
