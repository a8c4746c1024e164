#include "lmdb_env.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "domain/view.hpp"

namespace ledgerq::storage {

using domain::Table;

LmdbError::LmdbError(const char* call, int code)
    : std::runtime_error(std::string(call) + ": " + mdb_strerror(code)), code_(code) {}

bool LmdbError::fatal() const noexcept { return code_ == MDB_PANIC || code_ == MDB_CORRUPTED; }

namespace {

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

std::optional<std::string> do_get(MDB_txn* txn, MDB_dbi dbi, std::string_view key) {
  MDB_val k = val(key), v{};
  int rc = mdb_get(txn, dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return std::nullopt;
  check("mdb_get", rc);
  return std::string(view(v));
}

void do_scan(MDB_txn* txn, MDB_dbi dbi, std::string_view from, const domain::Visitor& visit) {
  Cursor c(txn, dbi);
  MDB_val k = val(from), v{};
  bool more = from.empty() ? c.get(k, v, MDB_FIRST) : c.get(k, v, MDB_SET_RANGE);
  while (more) {
    if (!visit(view(k), view(v))) return;
    more = c.get(k, v, MDB_NEXT);
  }
}

std::optional<domain::Entry> do_last_before(MDB_txn* txn, MDB_dbi dbi, std::string_view below) {
  Cursor c(txn, dbi);
  MDB_val k{}, v{};
  bool found;
  if (below.empty()) {
    found = c.get(k, v, MDB_LAST);
  } else {
    k = val(below);
    // The first key >= below, then one step back; none >= below: the last.
    found = c.get(k, v, MDB_SET_RANGE) ? c.get(k, v, MDB_PREV) : c.get(k, v, MDB_LAST);
  }
  if (!found) return std::nullopt;
  return domain::Entry{std::string(view(k)), std::string(view(v))};
}

unsigned sync_flags(SyncMode m) {
  switch (m) {
    case SyncMode::full: return 0;
    case SyncMode::meta: return MDB_NOMETASYNC;
    case SyncMode::none: return MDB_NOSYNC;
  }
  return 0;
}

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

Env::Env(EnvOptions opts) : opts_(std::move(opts)) {
  namespace fs = std::filesystem;
  const fs::path& dir = opts_.dir;
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
    check("mdb_env_set_maxdbs", mdb_env_set_maxdbs(env_, domain::kTableCount + 1));
    if (!opts_.read_only) check("mdb_env_set_mapsize", mdb_env_set_mapsize(env_, opts_.map_size));
    unsigned flags = opts_.read_only ? MDB_RDONLY : sync_flags(opts_.sync);
    check("mdb_env_open", mdb_env_open(env_, dir.c_str(), flags, 0644));

    MDB_txn* txn = nullptr;
    check("mdb_txn_begin", mdb_txn_begin(env_, nullptr, opts_.read_only ? MDB_RDONLY : 0, &txn));
    try {
      for (std::size_t i = 0; i < domain::kTableCount; ++i) {
        const char* name = domain::table_name(static_cast<Table>(i));
        int rc = mdb_dbi_open(txn, name, opts_.read_only ? 0 : MDB_CREATE, &dbis_[i]);
        if (rc == MDB_NOTFOUND)
          throw FormatError(dir.string() + " holds an LMDB store without table '" + name +
                            "': not a ledgerq store, or one being created");
        check("mdb_dbi_open", rc);
      }
      auto format = do_get(txn, dbi(Table::meta), kFormatKey);
      if (!format) {
        if (opts_.read_only) throw FormatError(dir.string() + ": store has no format version yet");
        MDB_stat st{};
        check("mdb_stat", mdb_stat(txn, dbi(Table::log), &st));
        if (st.ms_entries != 0) throw FormatError(dir.string() + ": store has a log but no format version");
        MDB_val k = val(kFormatKey);
        std::string v = domain::be64(kFormatVersion);
        MDB_val d = val(v);
        check("mdb_put", mdb_put(txn, dbi(Table::meta), &k, &d, 0));
      } else if (format->size() != 8 || domain::from_be64(*format) != kFormatVersion) {
        throw FormatError(dir.string() + ": store format version " +
                          (format->size() == 8 ? std::to_string(domain::from_be64(*format)) : "?") +
                          "; this build reads version " + std::to_string(kFormatVersion));
      }
      check("mdb_txn_commit", mdb_txn_commit(txn));
    } catch (...) {
      mdb_txn_abort(txn);
      throw;
    }
  } catch (...) {
    mdb_env_close(env_);
    if (lock_fd_ >= 0) ::close(lock_fd_);
    throw;
  }
}

Env::~Env() {
  mdb_env_close(env_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

WriteTxn Env::begin_write() {
  MDB_txn* txn = nullptr;
  check("mdb_txn_begin", mdb_txn_begin(env_, nullptr, 0, &txn));
  return WriteTxn(*this, txn);
}

ReadTxn Env::begin_read() {
  MDB_txn* txn = nullptr;
  check("mdb_txn_begin", mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn));
  return ReadTxn(*this, txn);
}

void Env::sync() { check("mdb_env_sync", mdb_env_sync(env_, 1)); }

std::pair<std::uint64_t, std::uint64_t> Env::map_usage() {
  MDB_envinfo info{};
  MDB_stat st{};
  check("mdb_env_info", mdb_env_info(env_, &info));
  check("mdb_env_stat", mdb_env_stat(env_, &st));
  return {static_cast<std::uint64_t>(info.me_last_pgno + 1) * st.ms_psize, info.me_mapsize};
}

// --- WriteTxn ----------------------------------------------------------------

void WriteTxn::commit() {
  MDB_txn* t = txn_;
  txn_ = nullptr;  // LMDB frees the txn even when commit fails
  check("mdb_txn_commit", mdb_txn_commit(t));
}

void WriteTxn::abort() noexcept {
  if (txn_) mdb_txn_abort(txn_);
  txn_ = nullptr;
}

std::optional<std::string> WriteTxn::get(Table t, std::string_view key) {
  return do_get(txn_, env_->dbi(t), key);
}

void WriteTxn::put(Table t, std::string_view key, std::string_view value) {
  MDB_val k = val(key), v = val(value);
  check("mdb_put", mdb_put(txn_, env_->dbi(t), &k, &v, 0));
}

void WriteTxn::append(Table t, std::string_view key, std::string_view value) {
  MDB_val k = val(key), v = val(value);
  check("mdb_put(MDB_APPEND)", mdb_put(txn_, env_->dbi(t), &k, &v, MDB_APPEND));
}

bool WriteTxn::erase(Table t, std::string_view key) {
  MDB_val k = val(key);
  int rc = mdb_del(txn_, env_->dbi(t), &k, nullptr);
  if (rc == MDB_NOTFOUND) return false;
  check("mdb_del", rc);
  return true;
}

std::size_t WriteTxn::erase_prefix(Table t, std::string_view prefix) {
  Cursor c(txn_, env_->dbi(t));
  MDB_val k = val(prefix), v{};
  std::size_t n = 0;
  bool more = c.get(k, v, MDB_SET_RANGE);
  while (more && view(k).starts_with(prefix)) {
    check("mdb_cursor_del", mdb_cursor_del(c.raw(), 0));
    ++n;
    k = val(prefix);  // seek again rather than rely on cursor state after a delete
    more = c.get(k, v, MDB_SET_RANGE);
  }
  return n;
}

void WriteTxn::scan(Table t, std::string_view from, const domain::Visitor& visit) {
  do_scan(txn_, env_->dbi(t), from, visit);
}

std::optional<domain::Entry> WriteTxn::last_before(Table t, std::string_view below) {
  return do_last_before(txn_, env_->dbi(t), below);
}

// --- ReadTxn -----------------------------------------------------------------

ReadTxn::~ReadTxn() {
  if (txn_) mdb_txn_abort(txn_);
}

std::optional<std::string> ReadTxn::get(Table t, std::string_view key) { return do_get(txn_, env_->dbi(t), key); }

void ReadTxn::scan(Table t, std::string_view from, const domain::Visitor& visit) {
  do_scan(txn_, env_->dbi(t), from, visit);
}

std::optional<domain::Entry> ReadTxn::last_before(Table t, std::string_view below) {
  return do_last_before(txn_, env_->dbi(t), below);
}

}  // namespace ledgerq::storage
