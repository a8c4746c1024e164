#include "lmdb_env.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "domain/view.hpp"

namespace ledgerq::storage {

using domain::Table;

LmdbError::LmdbError(const char* call, int code, bool fatal)
    : std::runtime_error(std::string(call) + ": " + mdb_strerror(code)), code_(code), fatal_(fatal) {}

bool LmdbError::fatal() const noexcept { return fatal_ || code_ == MDB_PANIC || code_ == MDB_CORRUPTED; }

namespace {

// Bytes an unprivileged writer may still take on the file system of `dir`
// (0 when it cannot be read: then the map does not grow past its size).
std::uint64_t disk_free(const std::filesystem::path& dir) {
  struct statvfs v {};
  if (::statvfs(dir.c_str(), &v) != 0) return 0;
  return static_cast<std::uint64_t>(v.f_bavail) * v.f_frsize;
}

void check(const char* call, int rc) {
  if (rc != MDB_SUCCESS) throw LmdbError(call, rc);
}

MDB_val val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
std::string_view view(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

constexpr std::string_view kFormatKey = "format";

// A cursor that closes itself. Cursors of a write transaction must be
// closed before it ends; read ones are closed here too, for symmetry.
class Cursor {
 public:
  Cursor(MDB_txn* txn, MDB_dbi dbi) { check("mdb_cursor_open", mdb_cursor_open(txn, dbi, &c_)); }
  ~Cursor() { mdb_cursor_close(c_); }
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  // Returns false at the end (MDB_NOTFOUND); throws on real failures.
  bool get(MDB_val& k, MDB_val& v, MDB_cursor_op op) {
    int rc = mdb_cursor_get(c_, &k, &v, op);
    if (rc == MDB_NOTFOUND) return false;
    check("mdb_cursor_get", rc);
    return true;
  }
  MDB_cursor* raw() { return c_; }

 private:
  MDB_cursor* c_ = nullptr;
};

// Where a table's keys live: its DBI and, in the shared one, the one-byte
// prefix every key of the table carries there.
struct Where {
  MDB_dbi dbi;
  bool prefixed;
  char tag;
};

Where where(const Env& env, Table t) {
  return Where{env.dbi(t), shares_db(t), static_cast<char>(static_cast<std::uint8_t>(t))};
}

// A table's key as stored: the domain's key, after the prefix when shared.
// Keys LMDB accepts are at most 511 bytes: those fit the buffer; a longer
// one is passed whole so that LMDB refuses it in its own words.
class StoredKey {
 public:
  StoredKey(const Where& w, std::string_view key) {
    if (!w.prefixed) {
      v_ = val(key);
    } else if (key.size() < buf_.size()) {
      buf_[0] = w.tag;
      std::memcpy(buf_.data() + 1, key.data(), key.size());
      v_ = MDB_val{key.size() + 1, buf_.data()};
    } else {
      spill_.reserve(key.size() + 1);
      spill_.push_back(w.tag);
      spill_.append(key);
      v_ = val(spill_);
    }
  }
  StoredKey(const StoredKey&) = delete;
  StoredKey& operator=(const StoredKey&) = delete;
  MDB_val& get() { return v_; }

 private:
  std::array<char, 512> buf_;
  std::string spill_;
  MDB_val v_{};
};

// Whether a stored key belongs to the table, and the domain's key of it.
bool in_table(const Where& w, const MDB_val& k) {
  return !w.prefixed || (k.mv_size >= 1 && static_cast<const char*>(k.mv_data)[0] == w.tag);
}
std::string_view domain_key(const Where& w, const MDB_val& k) { return view(k).substr(w.prefixed ? 1 : 0); }

std::optional<std::string> do_get(MDB_txn* txn, const Where& w, std::string_view key) {
  StoredKey k(w, key);
  MDB_val v{};
  int rc = mdb_get(txn, w.dbi, &k.get(), &v);
  if (rc == MDB_NOTFOUND) return std::nullopt;
  check("mdb_get", rc);
  return std::string(view(v));
}

void do_scan(MDB_txn* txn, const Where& w, std::string_view from, const domain::Visitor& visit) {
  Cursor c(txn, w.dbi);
  MDB_val v{};
  bool more;
  MDB_val k{};
  if (from.empty() && !w.prefixed) {
    more = c.get(k, v, MDB_FIRST);
  } else {
    StoredKey start(w, from);
    k = start.get();
    more = c.get(k, v, MDB_SET_RANGE);
  }
  while (more && in_table(w, k)) {
    if (!visit(domain_key(w, k), view(v))) return;
    more = c.get(k, v, MDB_NEXT);
  }
}

std::optional<domain::Entry> do_last_before(MDB_txn* txn, const Where& w, std::string_view below) {
  Cursor c(txn, w.dbi);
  MDB_val k{}, v{};
  bool found;
  if (below.empty() && !w.prefixed) {
    found = c.get(k, v, MDB_LAST);
  } else {
    // The first key >= below (in the shared DBI, for an empty `below`: the
    // first key of the next table), then one step back; none: the last.
    const char next_tag = static_cast<char>(w.tag + 1);
    StoredKey bound(w, below);
    k = below.empty() ? MDB_val{1, const_cast<char*>(&next_tag)} : bound.get();
    found = c.get(k, v, MDB_SET_RANGE) ? c.get(k, v, MDB_PREV) : c.get(k, v, MDB_LAST);
  }
  if (!found || !in_table(w, k)) return std::nullopt;
  return domain::Entry{std::string(domain_key(w, k)), std::string(view(v))};
}

// mdb_put under the table's stored key; LMDB's return code.
int put_rc(MDB_txn* txn, const Where& w, std::string_view key, std::string_view value, unsigned flags) {
  StoredKey k(w, key);
  MDB_val v = val(value);
  return mdb_put(txn, w.dbi, &k.get(), &v, flags);
}

void do_put(MDB_txn* txn, const Where& w, std::string_view key, std::string_view value, unsigned flags,
            const char* call) {
  check(call, put_rc(txn, w, key, value, flags));
}

// The same in every mode: the journal makes replies durable, and LMDB's
// file must be consistent at any crash point, for the journal to be applied
// to it. The meta page's sync is the Env's (commit, sync_meta). Not
// MDB_WRITEMAP: msync flushes more than the dirty pages (a durable
// dequeue+ack ran 6x slower).
unsigned sync_flags(SyncMode) { return MDB_NOMETASYNC; }

bool directory_is_empty(const std::filesystem::path& dir) {
  return std::filesystem::directory_iterator(dir) == std::filesystem::directory_iterator();
}

// One broker per data directory: a second one would interleave its log
// clock with ours. flock is released by the kernel when the process dies.
int lock_directory(const std::filesystem::path& dir) {
  const auto path = dir / "broker.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + path.string() + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    throw std::runtime_error("another broker is using " + dir.string());
  }
  return fd;
}

}  // namespace

// LMDB's two meta pages (lmdb 0.9, 64-bit: a 16-byte page header, then
// MDB_meta: magic u32, version u32, address, mapsize, two MDB_db of 48
// bytes whose first holds the page size, last_pg, txnid). The newer valid
// one names the file's last page: a file shorter than that is truncated.
void check_data_file(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;  // absent (a new store) or unreadable: LMDB says why
  auto read_u64 = [&](off_t at) {
    std::uint64_t v = 0;
    return ::pread(fd, &v, sizeof v, at) == sizeof v ? v : 0;
  };
  auto read_u32 = [&](off_t at) {
    std::uint32_t v = 0;
    return ::pread(fd, &v, sizeof v, at) == sizeof v ? v : 0;
  };
  constexpr std::uint32_t kMagic = 0xBEEFC0DE;
  constexpr off_t kMeta = 16;
  std::uint64_t best_txn = 0, last_pg = 0, page = 0;
  bool valid = false;
  const std::uint32_t first_magic = read_u32(kMeta);
  const std::uint32_t psize = read_u32(kMeta + 24);  // MDB_db[FREE_DBI].md_pad of the first meta
  for (off_t at : {off_t{0}, static_cast<off_t>(psize)}) {
    if (psize < 512 || psize > 65536 || (psize & (psize - 1)) != 0) break;
    if (read_u32(at + kMeta) != kMagic || read_u32(at + kMeta + 4) != 1) continue;
    const std::uint64_t txn = read_u64(at + kMeta + 128);
    if (!valid || txn > best_txn) {
      valid = true;
      best_txn = txn;
      last_pg = read_u64(at + kMeta + 120);
      page = psize;
    }
  }
  // The size after the metas: a live broker (beside a reader) only grows
  // the file before it commits a meta that names the new pages.
  struct stat st {};
  const bool stat_ok = ::fstat(fd, &st) == 0;
  ::close(fd);
  if (!stat_ok) return;
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size == 0)
    throw CorruptError(file.string() + " is empty (0 bytes): a truncated store; refusing to start a new one over it");
  if (!valid && first_magic != kMagic) throw FormatError(file.string() + " is not an LMDB file");
  if (!valid) throw CorruptError(file.string() + " has no valid LMDB meta page: the store is damaged");
  if (size < (last_pg + 1) * page)
    throw CorruptError(file.string() + " is " + std::to_string(size) + " bytes but its last page ends at " +
                       std::to_string((last_pg + 1) * page) + ": the store is truncated");
}


Env::Env(EnvOptions opts) : opts_(std::move(opts)) {
  namespace fs = std::filesystem;
  const fs::path& dir = opts_.dir;
  check_data_file(dir / "data.mdb");
  if (opts_.read_only) {
    if (!fs::exists(dir / "data.mdb"))
      throw FormatError("no ledgerq store in " + dir.string() + " (no data.mdb)");
  } else {
    fs::create_directories(dir);
    if (!fs::exists(dir / "data.mdb") && !directory_is_empty(dir))
      throw FormatError(dir.string() + " is not empty and holds no ledgerq store; refusing to use it");
    lock_fd_ = lock_directory(dir);
  }

  try {
    check("mdb_env_create", mdb_env_create(&env_));
    check("mdb_env_set_maxdbs", mdb_env_set_maxdbs(env_, domain::kTableCount + 2));
    if (!opts_.read_only) check("mdb_env_set_mapsize", mdb_env_set_mapsize(env_, opts_.map_size));
    unsigned flags = opts_.read_only ? MDB_RDONLY : sync_flags(opts_.sync);
    check("mdb_env_open", mdb_env_open(env_, dir.c_str(), flags, 0644));

    MDB_txn* txn = nullptr;
    check("mdb_txn_begin", mdb_txn_begin(env_, nullptr, opts_.read_only ? MDB_RDONLY : 0, &txn));
    try {
      open_databases(txn);
      const Where meta = where(*this, Table::meta);
      auto format = do_get(txn, meta, kFormatKey);
      if (!format) {
        if (opts_.read_only) throw FormatError(dir.string() + ": store has no format version yet");
        MDB_stat st{};
        check("mdb_stat", mdb_stat(txn, dbi(Table::log), &st));
        if (st.ms_entries != 0) throw FormatError(dir.string() + ": store has a log but no format version");
        do_put(txn, meta, kFormatKey, domain::be64(kFormatVersion), 0, "mdb_put");
      } else {
        check_version(*format);
        // An older format this build reads is a subset of this one: marked
        // as this one at the first writable open (older brokers then refuse it).
        if (const auto found = static_cast<std::uint32_t>(domain::from_be64(*format));
            !opts_.read_only && found < kFormatVersion) {
          if (opts_.upgrade) {
            WriteTxn w(*this, txn);
            try {
              opts_.upgrade(w, found);
            } catch (...) {
              w.release();  // aborted below, once
              throw;
            }
            txn = w.release();
          }
          do_put(txn, meta, kFormatKey, domain::be64(kFormatVersion), 0, "mdb_put");
        }
      }
      check("mdb_txn_commit", mdb_txn_commit(txn));
    } catch (...) {
      mdb_txn_abort(txn);
      throw;
    }
    if (!opts_.read_only) {
      MDB_stat st{};
      check("mdb_env_stat", mdb_env_stat(env_, &st));
      check("mdb_env_get_fd", mdb_env_get_fd(env_, &data_fd_));
      page_size_ = st.ms_psize;
      struct stat fst {};
      if (::fstat(data_fd_, &fst) != 0) throw std::runtime_error("fstat data.mdb: " + std::string(std::strerror(errno)));
      zeroed_to_ = static_cast<std::uint64_t>(fst.st_size);
      MDB_envinfo info{};
      check("mdb_env_info", mdb_env_info(env_, &info));
      last_used_ = (static_cast<std::uint64_t>(info.me_last_pgno) + 1) * page_size_;
    }
  } catch (...) {
    mdb_env_close(env_);
    if (lock_fd_ >= 0) ::close(lock_fd_);
    throw;
  }
}

void Env::check_version(const std::string& format) const {
  if (format.size() == 8 && domain::from_be64(format) >= kOldestFormatRead &&
      domain::from_be64(format) <= kFormatVersion)
    return;
  throw FormatError(opts_.dir.string() + ": store format version " +
                    (format.size() == 8 ? std::to_string(domain::from_be64(format)) : "?") +
                    "; this build reads version " + std::to_string(kFormatVersion));
}

void Env::open_databases(MDB_txn* txn) {
  const std::string dir = opts_.dir.string();
  MDB_dbi shared = 0;
  bool fresh = false;
  int rc = mdb_dbi_open(txn, kSharedDbName, 0, &shared);
  if (rc == MDB_NOTFOUND) {
    // A store of format 1 or 2 has one database per table: its version is in
    // `meta`. Say which it is; change nothing.
    MDB_dbi old_meta = 0;
    if (mdb_dbi_open(txn, "meta", 0, &old_meta) == MDB_SUCCESS) {
      auto format = do_get(txn, Where{old_meta, false, 0}, kFormatKey);
      check_version(format.value_or(""));
    }
    MDB_dbi main_db = 0;
    MDB_stat st{};
    check("mdb_dbi_open", mdb_dbi_open(txn, nullptr, 0, &main_db));
    check("mdb_stat", mdb_stat(txn, main_db, &st));
    if (opts_.read_only || st.ms_entries != 0)
      throw FormatError(dir + " holds an LMDB store without database '" + kSharedDbName +
                        "': not a ledgerq store, or one being created");
    check("mdb_dbi_open", mdb_dbi_open(txn, kSharedDbName, MDB_CREATE, &shared));
    fresh = true;
  } else {
    check("mdb_dbi_open", rc);
  }
  for (std::size_t i = 0; i < domain::kTableCount; ++i) {
    const auto t = static_cast<Table>(i);
    if (shares_db(t)) {
      dbis_[i] = shared;
      continue;
    }
    const char* name = domain::table_name(t);
    // Created with `tables`, in the same transaction: a store with `tables`
    // and without this one has another layout, never to be filled in.
    rc = mdb_dbi_open(txn, name, fresh ? MDB_CREATE : 0, &dbis_[i]);
    if (rc == MDB_NOTFOUND)
      throw FormatError(dir + " holds an LMDB store without database '" + name +
                        "': not a ledgerq store of this format, or one being created");
    check("mdb_dbi_open", rc);
  }
}

Env::~Env() {
  mdb_env_close(env_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

WriteTxn Env::begin_write() {
  MDB_txn* txn = nullptr;
  check("mdb_txn_begin", mdb_txn_begin(env_, nullptr, 0, &txn));
  WriteTxn w(*this, txn);
  write_zeros_ahead();
  return w;
}

// Appending to a file makes its fdatasync journal the new size and extents
// (ext4): measured here, a durable commit that grew the file paid ~0.1 ms
// more, and about a quarter of a small store's commits grow it. So the file
// is written with zeros ahead of LMDB's last page, in steps of a sixteenth
// of the store (2 to 32 MiB), fdatasync'd once per step, unless the commits
// are so big that they would outrun it anyway. Not fallocate: its
// unwritten extents would still be converted, and journaled, by the commit
// that first writes them. Called with the write transaction just begun:
// LMDB's writer lock is ours and LMDB writes nothing before commit; pages
// past the last committed one hold nothing (zeroing them is harmless even
// if an earlier process left garbage there). Failures are ignored: this
// only saves time, and LMDB meets a full disk in its own words.
void Env::write_zeros_ahead() {
  if (data_fd_ < 0) return;
  MDB_envinfo info{};
  if (mdb_env_info(env_, &info) != MDB_SUCCESS) return;
  const std::uint64_t used = (static_cast<std::uint64_t>(info.me_last_pgno) + 1) * page_size_;
  constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
  const std::uint64_t step = std::clamp<std::uint64_t>(used / 16, 2 * kMiB, 32 * kMiB);
  const std::uint64_t grown = used > last_used_ ? used - last_used_ : 0;
  last_used_ = used;
  // Commits of megabytes (a bulk fill) run past any zeros: writing them
  // first would only double the writes. Such a commit pays for its own
  // growth once, in its one fdatasync.
  if (grown > step / 4) return;
  if (zeroed_to_ >= used + step / 2) return;
  std::uint64_t to = std::min<std::uint64_t>(used + step, info.me_mapsize);
  to -= to % page_size_;
  std::uint64_t at = std::max(zeroed_to_, used);
  if (at >= to) return;
  static const std::vector<char> zeros(kMiB, '\0');
  while (at < to) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(to - at, zeros.size()));
    const ssize_t w = ::pwrite(data_fd_, zeros.data(), n, static_cast<off_t>(at));
    if (w <= 0) return;
    at += static_cast<std::uint64_t>(w);
  }
  if (::fdatasync(data_fd_) != 0) return;
  zeroed_to_ = at;
}

ReadTxn Env::begin_read() {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
  if (rc == MDB_MAP_RESIZED) {
    // The broker grew the map (another process): adopt its size, then read.
    check("mdb_env_set_mapsize", mdb_env_set_mapsize(env_, 0));
    rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
  }
  check("mdb_txn_begin", rc);
  return ReadTxn(*this, txn);
}

bool Env::above_last(MDB_txn* txn, Table t, std::string_view key) {
  auto& bound = last_bound_[static_cast<std::size_t>(t)];
  if (!bound) {
    auto last = do_last_before(txn, where(*this, t), "");
    bound = last ? std::move(last->first) : std::string();
  }
  return key > *bound;
}

void Env::forget_last(Table t) { last_bound_[static_cast<std::size_t>(t)].reset(); }

void Env::note_put(Table t, std::string_view key) {
  auto& bound = last_bound_[static_cast<std::size_t>(t)];
  if (bound && key > *bound) bound->assign(key);
}

void Env::sync() { check("mdb_env_sync", mdb_env_sync(env_, 1)); }

void Env::sync_meta() {
  if (data_fd_ < 0) return;
  // The commit is in the file already: after a failed sync nobody can say
  // what reached the disk, and retrying it could report success over lost
  // writes (PostgreSQL's "fsyncgate"). The process ends; clients resubmit.
  if (::fdatasync(data_fd_) != 0) throw LmdbError("fdatasync of committed pages", errno, true);
}

Env::MapUsage Env::map_extent() {
  MDB_envinfo info{};
  MDB_stat st{};
  check("mdb_env_info", mdb_env_info(env_, &info));
  check("mdb_env_stat", mdb_env_stat(env_, &st));
  MapUsage m;
  m.used = static_cast<std::uint64_t>(info.me_last_pgno + 1) * st.ms_psize;
  m.size = info.me_mapsize;
  return m;
}

Env::MapUsage Env::map_usage() {
  MapUsage m = map_extent();
  m.limit = std::max(m.size, m.used + disk_free(opts_.dir));
  if (opts_.map_max != 0) m.limit = std::min<std::uint64_t>(m.limit, std::max<std::uint64_t>(opts_.map_max, m.size));
  return m;
}

bool Env::grow(bool full) {
  if (opts_.read_only) return false;
  if (const MapUsage e = map_extent(); !full && e.used <= e.size / 4 * 3) return false;
  const MapUsage m = map_usage();
  std::uint64_t to = std::min(m.size * 2, m.limit);
  to -= to % std::max<std::uint64_t>(page_size_, 4096);
  if (to <= m.size) return false;
  // LMDB unmaps the old map before mapping the new one: if that fails, the
  // environment is left without one, and nothing may touch it again.
  if (int rc = mdb_env_set_mapsize(env_, static_cast<std::size_t>(to)); rc != MDB_SUCCESS)
    throw LmdbError("mdb_env_set_mapsize", rc, /*fatal=*/true);
  return true;
}

// --- WriteTxn ----------------------------------------------------------------

void WriteTxn::commit() {
  commit_deferring_sync();
  env_->sync_meta();
}

void WriteTxn::commit_deferring_sync() {
  MDB_txn* t = txn_;
  txn_ = nullptr;  // LMDB frees the txn even when commit fails
  check("mdb_txn_commit", mdb_txn_commit(t));
}

void WriteTxn::abort() noexcept {
  if (txn_) mdb_txn_abort(txn_);
  txn_ = nullptr;
}

std::optional<std::string> WriteTxn::get(Table t, std::string_view key) {
  return do_get(txn_, where(*env_, t), key);
}

void WriteTxn::put(Table t, std::string_view key, std::string_view value) {
  const Where w = where(*env_, t);
  if (!w.prefixed && env_->above_last(txn_, t, key)) {
    const int rc = put_rc(txn_, w, key, value, MDB_APPEND);
    if (rc != MDB_KEYEXIST) {
      check("mdb_put(MDB_APPEND)", rc);
      env_->note_put(t, key);
      return;
    }
    env_->forget_last(t);  // cannot happen while the bound holds; read it again
  }
  do_put(txn_, w, key, value, 0, "mdb_put");
}

void WriteTxn::append(Table t, std::string_view key, std::string_view value) {
  const Where w = where(*env_, t);
  if (w.prefixed) {
    // MDB_APPEND compares with the last key of the whole database; in the
    // shared one, the rule is checked against the table's own last key.
    auto last = do_last_before(txn_, w, "");
    if (last && std::string_view(last->first) >= key) throw LmdbError("mdb_put(MDB_APPEND)", MDB_KEYEXIST);
    do_put(txn_, w, key, value, 0, "mdb_put");
    return;
  }
  do_put(txn_, w, key, value, MDB_APPEND, "mdb_put(MDB_APPEND)");
  env_->note_put(t, key);
}

bool WriteTxn::erase(Table t, std::string_view key) {
  StoredKey k(where(*env_, t), key);
  int rc = mdb_del(txn_, env_->dbi(t), &k.get(), nullptr);
  if (rc == MDB_NOTFOUND) return false;
  check("mdb_del", rc);
  return true;
}

std::size_t WriteTxn::erase_prefix(Table t, std::string_view prefix) {
  const Where w = where(*env_, t);
  StoredKey p(w, prefix);
  const std::string_view stored_prefix = view(p.get());
  Cursor c(txn_, w.dbi);
  MDB_val k = p.get(), v{};
  std::size_t n = 0;
  bool more = c.get(k, v, MDB_SET_RANGE);
  while (more && view(k).starts_with(stored_prefix)) {
    check("mdb_cursor_del", mdb_cursor_del(c.raw(), 0));
    ++n;
    k = p.get();  // seek again rather than rely on cursor state after a delete
    more = c.get(k, v, MDB_SET_RANGE);
  }
  return n;
}

void WriteTxn::scan(Table t, std::string_view from, const domain::Visitor& visit) {
  do_scan(txn_, where(*env_, t), from, visit);
}

std::optional<domain::Entry> WriteTxn::last_before(Table t, std::string_view below) {
  return do_last_before(txn_, where(*env_, t), below);
}

// --- ReadTxn -----------------------------------------------------------------

ReadTxn::~ReadTxn() {
  if (txn_) mdb_txn_abort(txn_);
}

std::optional<std::string> ReadTxn::get(Table t, std::string_view key) {
  return do_get(txn_, where(*env_, t), key);
}

void ReadTxn::scan(Table t, std::string_view from, const domain::Visitor& visit) {
  do_scan(txn_, where(*env_, t), from, visit);
}

std::optional<domain::Entry> ReadTxn::last_before(Table t, std::string_view below) {
  return do_last_before(txn_, where(*env_, t), below);
}

}  // namespace ledgerq::storage
