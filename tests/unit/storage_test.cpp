// Storage over a real LMDB file in a fresh temporary directory: the Kv
// contract, the format version, faults (a full map), and the invariant
// that the view equals the fold of the log.
#include <gtest/gtest.h>
#include <lmdb.h>
#include <poll.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "domain/verify.hpp"
#include "harness.hpp"
#include "storage/journal.hpp"
#include "storage/lmdb_env.hpp"
#include "transport/syncer.hpp"

namespace ledgerq {
namespace {

namespace fs = std::filesystem;
using domain::Table;

// Whether the LMDB environment in `dir` holds a database named `name`,
// looked at read-only with LMDB itself (not through storage::Env).
bool has_database(const fs::path& dir, const char* name) {
  MDB_env* e = nullptr;
  if (mdb_env_create(&e) != 0) throw std::runtime_error("mdb_env_create");
  MDB_txn* txn = nullptr;
  MDB_dbi dbi = 0;
  int rc = mdb_env_set_maxdbs(e, 32);
  if (rc == 0) rc = mdb_env_open(e, dir.c_str(), MDB_RDONLY, 0644);
  if (rc == 0) rc = mdb_txn_begin(e, nullptr, MDB_RDONLY, &txn);
  if (rc == 0) rc = mdb_dbi_open(txn, name, 0, &dbi);
  if (txn) mdb_txn_abort(txn);
  mdb_env_close(e);
  if (rc != 0 && rc != MDB_NOTFOUND) throw std::runtime_error(std::string("LMDB: ") + mdb_strerror(rc));
  return rc == 0;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "ledgerq-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

storage::EnvOptions opts(const fs::path& dir, std::size_t map = std::size_t{64} << 20) {
  storage::EnvOptions o;
  o.dir = dir;
  o.map_size = map;
  return o;
}

// Runs one command in its own committed transaction, as the broker does.
domain::Outcome run(storage::Env& env, const Command& c, Micros now) {
  auto txn = env.begin_write();
  domain::View v(txn);
  auto out = domain::execute(v, c, domain::Context{now, nullptr});
  v.flush();
  txn.commit();
  return out;
}

TEST(Storage, KvContractMatchesMemKv) {
  TempDir dir;
  storage::Env env(opts(dir.path() / "db"));
  domain::MemKv mem;
  auto txn = env.begin_write();
  for (domain::Kv* kv : {static_cast<domain::Kv*>(&txn), static_cast<domain::Kv*>(&mem)}) {
    kv->put(Table::jobs, std::string("a\0x", 3), "1");
    kv->put(Table::jobs, std::string("a\0y", 3), "2");
    kv->put(Table::jobs, std::string("ab\0z", 4), "3");
    kv->put(Table::jobs, "b", "4");
    EXPECT_EQ(kv->get(Table::jobs, "b"), "4");
    EXPECT_EQ(kv->get(Table::jobs, "nope"), std::nullopt);
    auto last = kv->last_before(Table::jobs, "ab");
    ASSERT_TRUE(last);
    EXPECT_EQ(last->second, "2");
    EXPECT_EQ(kv->last_before(Table::jobs, "")->second, "4");
    EXPECT_EQ(kv->last_before(Table::jobs, "zzz")->second, "4");
    EXPECT_FALSE(kv->last_before(Table::jobs, "a"));
    EXPECT_EQ(kv->erase_prefix(Table::jobs, std::string("a\0", 2)), 2u);
    std::vector<std::string> keys;
    kv->scan(Table::jobs, "", [&](std::string_view k, std::string_view) {
      keys.emplace_back(k);
      return true;
    });
    EXPECT_EQ(keys, (std::vector<std::string>{std::string("ab\0z", 4), "b"}));
    EXPECT_TRUE(kv->erase(Table::jobs, "b"));
    EXPECT_FALSE(kv->erase(Table::jobs, "b"));
    kv->append(Table::log, domain::be64(5), "e5");
    kv->append(Table::log, domain::be64(7), "e7");
  }
  EXPECT_THROW(txn.append(Table::log, domain::be64(6), "late"), storage::LmdbError);
  EXPECT_THROW(mem.append(Table::log, domain::be64(6), "late"), std::logic_error);
}

// Puts above a database's last key go in with MDB_APPEND, judged against a
// bound the Env keeps across transactions. Ascending runs, overwrites of
// the last key, erases of it and aborted transactions (which leave the
// bound above every stored key) must leave what MemKv holds.
TEST(Storage, PutsInAnyKeyOrderAgreeWithMemKv) {
  TempDir dir;
  storage::Env env(opts(dir.path()));
  domain::MemKv mem;
  std::mt19937 rng(7);
  std::uint64_t next = 1000;
  auto key = [&](bool ascending) { return domain::be64(ascending ? ++next : rng() % next); };
  for (int t = 0; t < 200; ++t) {
    const bool abort = rng() % 5 == 0;
    auto txn = env.begin_write();
    domain::MemKv scratch = mem;
    for (int i = 0; i < 20; ++i) {
      const auto op = rng() % 10;
      const std::string k = op < 5 ? key(true) : key(false);
      for (domain::Kv* kv : {static_cast<domain::Kv*>(&txn), static_cast<domain::Kv*>(&scratch)}) {
        if (op == 9) {
          kv->erase(Table::jobs, k);
        } else {
          kv->put(Table::jobs, k, std::to_string(t));
        }
      }
    }
    if (abort) continue;  // txn aborts; mem keeps the state before it
    txn.commit();
    mem = std::move(scratch);
  }
  auto all = [](domain::Kv& kv) {
    std::vector<std::pair<std::string, std::string>> out;
    kv.scan(Table::jobs, "", [&](std::string_view k, std::string_view v) {
      out.emplace_back(k, v);
      return true;
    });
    return out;
  };
  auto r = env.begin_read();
  const auto stored = all(r);
  EXPECT_GT(stored.size(), 1000u);
  EXPECT_EQ(stored, all(mem));
}

bool readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

// The broker's Syncer (transport) flushing a journal: each generation
// asked for becomes durable, in order, and its eventfd says so.
TEST(Storage, SyncerMakesEachGenerationAskedForDurableInOrder) {
  TempDir dir;
  storage::Journal journal(storage::open_journal_file(dir.path() / "journal"), 1 << 16);
  journal.recover(0, 0);
  transport::Syncer syncer([&] { journal.flush(); });
  EXPECT_EQ(syncer.durable(), 0u);
  EXPECT_FALSE(readable(syncer.fd(), 0));
  for (std::uint64_t g = 1; g <= 41; ++g) {
    journal.append("record " + std::to_string(g));
    syncer.request(g);
    if (g % 4 != 0) continue;  // several asked for before one is awaited
    while (syncer.durable() < g) {
      ASSERT_TRUE(readable(syncer.fd(), 5000)) << "no sync done for generation " << g;
      syncer.clear();
      EXPECT_LE(syncer.durable(), g);  // never beyond what was asked for
    }
    EXPECT_EQ(syncer.durable(), g);
  }
}  // generation 41 is still asked for: the destructor must finish it, not hang

// The small tables share one LMDB database under a one-byte prefix (format
// 3): each operation must stop at its table's edge exactly as MemKv's
// separate maps do, with neighbours on both sides holding keys that sort
// next to the table's own (0x00, 0xff).
TEST(Storage, SharedTablesStopAtTheirOwnEdges) {
  TempDir dir;
  storage::Env env(opts(dir.path()));
  domain::MemKv mem;
  auto txn = env.begin_write();
  // Neighbours in the shared database: no shared table lies between them.
  const Table below = Table::clients, t = Table::ready_types, above = Table::leases;
  ASSERT_FALSE(storage::shares_db(Table::client_notices) || storage::shares_db(Table::ready));
  ASSERT_TRUE(storage::shares_db(below) && storage::shares_db(t) && storage::shares_db(above));
  const std::string ff(1, '\xff'), nul(1, '\0');
  for (domain::Kv* kv : {static_cast<domain::Kv*>(&txn), static_cast<domain::Kv*>(&mem)}) {
    SCOPED_TRACE(kv == &mem ? "MemKv" : "LMDB");
    auto keys = [&](Table table) {
      std::vector<std::string> out;
      kv->scan(table, "", [&](std::string_view k, std::string_view) {
        out.emplace_back(k);
        return true;
      });
      return out;
    };
    // Empty tables, between and beside full ones.
    for (const auto& k : {nul, std::string("a"), ff + ff}) kv->put(below, k, "below");
    for (const auto& k : {nul, std::string("a"), ff + ff}) kv->put(above, k, "above");
    EXPECT_TRUE(keys(t).empty());
    EXPECT_FALSE(kv->last_before(t, ""));
    EXPECT_FALSE(kv->last_before(t, "m"));
    EXPECT_FALSE(kv->get(t, "a"));
    EXPECT_EQ(kv->erase_prefix(t, ""), 0u);
    kv->scan(t, ff, [](std::string_view, std::string_view) -> bool { ADD_FAILURE() << "visited"; return false; });

    for (const auto& k : {nul, std::string("b"), std::string("b") + nul, ff}) kv->put(t, k, "t:" + k);
    EXPECT_EQ(keys(t), (std::vector<std::string>{nul, "b", std::string("b") + nul, ff}));
    EXPECT_EQ(keys(below), (std::vector<std::string>{nul, "a", ff + ff}));
    EXPECT_EQ(keys(above), (std::vector<std::string>{nul, "a", ff + ff}));
    EXPECT_EQ(kv->last_before(t, "")->first, ff);
    EXPECT_EQ(kv->last_before(below, "")->first, ff + ff);
    EXPECT_EQ(kv->last_before(t, "b")->first, nul);
    EXPECT_FALSE(kv->last_before(t, nul));
    EXPECT_EQ(kv->last_before(above, nul), std::nullopt);
    EXPECT_EQ(kv->last_before(t, ff + ff)->first, ff);
    std::vector<std::string> from_c;
    kv->scan(t, "c", [&](std::string_view k, std::string_view v) {
      from_c.emplace_back(k);
      EXPECT_EQ(v, "t:" + std::string(k));
      return true;
    });
    EXPECT_EQ(from_c, std::vector<std::string>{ff});

    // Appends are checked against the table's own last key, not a neighbour's.
    kv->append(t, ff + "x", "appended");
    EXPECT_EQ(kv->get(t, ff + "x"), "appended");
    EXPECT_ANY_THROW(kv->append(t, "c", "late"));
    EXPECT_ANY_THROW(kv->append(t, ff + "x", "again"));

    EXPECT_EQ(kv->erase_prefix(t, "b"), 2u);
    EXPECT_EQ(kv->erase_prefix(t, ""), 3u);
    EXPECT_TRUE(keys(t).empty());
    EXPECT_EQ(keys(below).size(), 3u);
    EXPECT_EQ(keys(above).size(), 3u);
    EXPECT_TRUE(kv->erase(above, nul));
    EXPECT_FALSE(kv->erase(t, "a"));
    EXPECT_EQ(kv->get(below, "a"), "below");
  }
  txn.put(Table::ready_types, "z", "1");
  EXPECT_THROW(txn.append(Table::ready_types, "0", "late"), storage::LmdbError);
}

// A format-2 store (one LMDB database per table) is refused with its version
// named, and left as it was: this build never rewrites another format.
TEST(Storage, RefusesAFormat2StoreUnchanged) {
  TempDir dir;
  {
    MDB_env* e = nullptr;
    ASSERT_EQ(mdb_env_create(&e), 0);
    ASSERT_EQ(mdb_env_set_maxdbs(e, 32), 0);
    ASSERT_EQ(mdb_env_open(e, dir.path().c_str(), 0, 0644), 0);
    MDB_txn* txn = nullptr;
    ASSERT_EQ(mdb_txn_begin(e, nullptr, 0, &txn), 0);
    for (std::size_t i = 0; i < domain::kTableCount; ++i) {
      MDB_dbi dbi = 0;
      ASSERT_EQ(mdb_dbi_open(txn, domain::table_name(static_cast<Table>(i)), MDB_CREATE, &dbi), 0);
      if (static_cast<Table>(i) == Table::meta) {
        std::string k = "format", v = domain::be64(2);
        MDB_val kk{k.size(), k.data()}, vv{v.size(), v.data()};
        ASSERT_EQ(mdb_put(txn, dbi, &kk, &vv, 0), 0);
      }
    }
    ASSERT_EQ(mdb_txn_commit(txn), 0);
    mdb_env_close(e);
  }
  const auto before = fs::file_size(dir.path() / "data.mdb");
  for (bool read_only : {false, true}) {
    auto o = opts(dir.path());
    o.read_only = read_only;
    try {
      storage::Env env(o);
      FAIL() << "opened a format-2 store";
    } catch (const storage::FormatError& e) {
      EXPECT_NE(std::string(e.what()).find("format version 2;"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(fs::file_size(dir.path() / "data.mdb"), before);
  EXPECT_FALSE(has_database(dir.path(), storage::kSharedDbName)) << "the refused store was changed";
}

// A store with `tables` but without one of the other databases has some
// other layout: refused, and not filled in with an empty database.
TEST(Storage, RefusesAStoreMissingADatabase) {
  TempDir dir;
  {
    storage::Env env(opts(dir.path()));
    auto txn = env.begin_write();
    txn.put(Table::ready, "r", "1");
    txn.commit();
  }
  {
    MDB_env* e = nullptr;
    ASSERT_EQ(mdb_env_create(&e), 0);
    ASSERT_EQ(mdb_env_set_maxdbs(e, 32), 0);
    ASSERT_EQ(mdb_env_open(e, dir.path().c_str(), 0, 0644), 0);
    MDB_txn* txn = nullptr;
    ASSERT_EQ(mdb_txn_begin(e, nullptr, 0, &txn), 0);
    MDB_dbi dbi = 0;
    ASSERT_EQ(mdb_dbi_open(txn, "ready", 0, &dbi), 0);
    ASSERT_EQ(mdb_drop(txn, dbi, 1), 0);  // deletes the database itself
    ASSERT_EQ(mdb_txn_commit(txn), 0);
    mdb_env_close(e);
  }
  try {
    storage::Env env(opts(dir.path()));
    FAIL() << "opened a store without 'ready'";
  } catch (const storage::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("'ready'"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(has_database(dir.path(), "ready")) << "the refused store was filled in";
}

// An LMDB store that is not ours (no ledgerq database in it) is refused.
TEST(Storage, RefusesAnLmdbStoreOfSomeoneElse) {
  TempDir dir;
  {
    MDB_env* e = nullptr;
    ASSERT_EQ(mdb_env_create(&e), 0);
    ASSERT_EQ(mdb_env_open(e, dir.path().c_str(), 0, 0644), 0);
    MDB_txn* txn = nullptr;
    ASSERT_EQ(mdb_txn_begin(e, nullptr, 0, &txn), 0);
    MDB_dbi dbi = 0;
    ASSERT_EQ(mdb_dbi_open(txn, nullptr, 0, &dbi), 0);
    std::string k = "theirs", v = "1";
    MDB_val kk{k.size(), k.data()}, vv{v.size(), v.data()};
    ASSERT_EQ(mdb_put(txn, dbi, &kk, &vv, 0), 0);
    ASSERT_EQ(mdb_txn_commit(txn), 0);
    mdb_env_close(e);
  }
  EXPECT_THROW(storage::Env(opts(dir.path())), storage::FormatError);
}

// Durable modes keep data.mdb written (not sparse: zeros) ahead of LMDB's
// last page, so that commits overwrite allocated blocks and their fdatasync
// journals no size change. Never past the map; in every --sync mode (LMDB
// syncs its checkpoints in all of them), never by a reader.
TEST(Storage, StoresWriteTheFileAheadOfTheData) {
  TempDir dir;
  auto file = [&](const fs::path& db) {
    struct stat st {};
    EXPECT_EQ(::stat((db / "data.mdb").c_str(), &st), 0);
    return std::pair<std::uint64_t, std::uint64_t>{static_cast<std::uint64_t>(st.st_size),
                                                   static_cast<std::uint64_t>(st.st_blocks) * 512};
  };
  const std::string value(3000, 'v');
  {
    storage::Env env(opts(dir.path() / "full"));
    for (int i = 0; i < 2000; ++i) {  // ~6 MiB: more than one step ahead
      auto txn = env.begin_write();
      txn.put(Table::jobs, "j" + std::to_string(i), value);
      txn.commit();
      const auto used = env.map_usage().used;
      const auto [size, allocated] = file(dir.path() / "full");
      ASSERT_GE(size, used) << i;
      if (i % 100 == 0) {
        EXPECT_GE(size, used + (std::uint64_t{1} << 20)) << i;  // at least half a step (2 MiB) ahead
        EXPECT_GE(allocated, size) << "sparse: not written ahead";
      }
    }
  }
  {
    storage::Env env(opts(dir.path() / "full"));  // reopens over the zeros
    auto r = env.begin_read();
    EXPECT_EQ(r.get(Table::jobs, "j1999"), value);
  }
  {
    storage::Env env(opts(dir.path() / "small", 1 << 20));
    auto txn = env.begin_write();
    txn.put(Table::jobs, "j", value);
    txn.commit();
    EXPECT_LE(file(dir.path() / "small").first, std::uint64_t{1} << 20);
  }
  {
    storage::Env env(opts(dir.path() / "ro"));  // a reader writes nothing
  }
  {
    auto o = opts(dir.path() / "ro");
    o.read_only = true;
    const auto before = file(dir.path() / "ro").first;
    storage::Env env(o);
    auto r = env.begin_read();
    EXPECT_EQ(file(dir.path() / "ro").first, before);
  }
}

TEST(Storage, AbortKeepsNothingCommitKeepsEverything) {
  TempDir dir;
  {
    storage::Env env(opts(dir.path()));
    {
      auto txn = env.begin_write();
      txn.put(Table::jobs, "kept", "1");
      txn.commit();
    }
    {
      auto txn = env.begin_write();
      txn.put(Table::jobs, "dropped", "1");
    }  // destructor aborts
  }
  storage::Env env(opts(dir.path()));
  auto r = env.begin_read();
  EXPECT_TRUE(r.get(Table::jobs, "kept"));
  EXPECT_FALSE(r.get(Table::jobs, "dropped"));
}

TEST(Storage, RefusesForeignDirectoriesAndOtherFormatVersions) {
  TempDir dir;
  {
    std::ofstream(dir.path() / "notes.txt") << "my files";
    EXPECT_THROW(storage::Env(opts(dir.path())), storage::FormatError);
  }
  auto ro = opts(dir.path() / "missing");
  ro.read_only = true;
  EXPECT_THROW(storage::Env{ro}, storage::FormatError);

  const auto db = dir.path() / "db";
  {
    storage::Env env(opts(db));
    auto txn = env.begin_write();
    txn.put(Table::meta, "format", domain::be64(storage::kFormatVersion + 1));
    txn.commit();
  }
  try {
    storage::Env env(opts(db));
    FAIL() << "opened a store of a newer format";
  } catch (const storage::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("format version " + std::to_string(storage::kFormatVersion + 1)), std::string::npos) << e.what();
  }
}

TEST(Storage, AVersion4StoreIsReadAndMarked5WhenOpenedWritable) {
  TempDir dir;
  {
    storage::Env env(opts(dir.path()));
    auto txn = env.begin_write();
    txn.put(Table::meta, "format", domain::be64(4));
    txn.put(Table::jobs, "kept", "v");
    txn.commit();
  }
  auto format = [&](storage::Env& env) {
    auto r = env.begin_read();
    return domain::from_be64(*r.get(Table::meta, "format"));
  };
  {
    auto ro = opts(dir.path());
    ro.read_only = true;
    storage::Env reader(ro);  // tools read it as it is
    EXPECT_EQ(format(reader), 4u);
  }
  storage::Env env(opts(dir.path()));
  EXPECT_EQ(format(env), storage::kFormatVersion);
  EXPECT_EQ(*env.begin_read().get(Table::jobs, "kept"), "v");
}

// Format 7 keeps the line of all types in `ready`; a store of format 6
// gains it, entry for entry, in the transaction that marks it 7.
TEST(Storage, AStoreOfFormat6GainsTheLineOfAllTypesWhenOpened) {
  TempDir dir;
  auto all_types = [](domain::Kv& kv) {
    std::vector<domain::Entry> out;
    kv.scan(Table::ready, "", [&](std::string_view k, std::string_view v) {
      if (k.find(std::string("\0*\0", 3)) != std::string_view::npos) out.emplace_back(k, v);
      return true;
    });
    return out;
  };
  std::vector<domain::Entry> lines;
  {
    storage::Env env(opts(dir.path()));
    ASSERT_TRUE(run(env, cmd::DsCreate{"ds", std::nullopt}, 1000).reply.ok());
    for (int i = 0; i < 6; ++i) {
      JobOptions o;
      o.type = i % 2 ? "a" : "b";
      o.priority = static_cast<std::uint8_t>(1 + i % 3);
      ASSERT_TRUE(run(env, cmd::Submit{"ds", "j" + std::to_string(i), "c", Any{}, o}, 2000 + i).reply.ok());
    }
    auto txn = env.begin_write();
    lines = all_types(txn);
    ASSERT_EQ(lines.size(), 6u);
    for (const auto& [k, v] : lines) txn.erase(Table::ready, k);  // as format 6 kept it
    txn.put(Table::meta, "format", domain::be64(6));
    txn.commit();
  }
  auto o = opts(dir.path());
  o.upgrade = [](domain::Kv& kv, std::uint32_t from) { domain::upgrade_store(kv, from); };
  storage::Env env(o);
  auto r = env.begin_read();
  EXPECT_EQ(domain::from_be64(*r.get(Table::meta, "format")), storage::kFormatVersion);
  EXPECT_EQ(all_types(r), lines);
}

TEST(Storage, OneBrokerPerDirectory) {
  TempDir dir;
  storage::Env first(opts(dir.path()));
  // Refused before LMDB opens the file (LMDB forbids opening one
  // environment twice in a process). Readers in other processes are fine.
  EXPECT_THROW(storage::Env second(opts(dir.path())), std::runtime_error);
}

// Fault injection with the real thing: a map too small for the work.
// The failing transaction is aborted whole; what was committed stays.
TEST(Storage, FullMapFailsTheTransactionAndLosesNothingCommitted) {
  TempDir dir;
  storage::Env env(opts(dir.path(), 1 << 20));  // 1 MiB
  Micros now = 1'000;
  ASSERT_TRUE(run(env, cmd::DsCreate{"ds"}, now).reply.ok());
  const Any big{std::string("\xc6\x00\x01\x00\x00", 5) + std::string(65536, 'x')};  // bin32, 64 KiB
  int committed = 0;
  bool failed = false;
  for (int i = 0; i < 64 && !failed; ++i) {
    try {
      auto out = run(env, cmd::Submit{"ds", "j" + std::to_string(i), "c", big}, ++now);
      ASSERT_TRUE(out.reply.ok());
      ++committed;
    } catch (const storage::LmdbError& e) {
      EXPECT_EQ(e.code(), MDB_MAP_FULL) << e.what();
      failed = true;
    }
  }
  ASSERT_TRUE(failed) << "the map never filled";
  ASSERT_GT(committed, 0);
  auto r = env.begin_read();
  domain::View v(r);
  for (int i = 0; i < committed; ++i) EXPECT_TRUE(v.job("ds", "j" + std::to_string(i))) << i;
  EXPECT_FALSE(v.job("ds", "j" + std::to_string(committed)));
  EXPECT_EQ(v.datasource("ds")->seq, static_cast<std::uint64_t>(committed));
}

TEST(Storage, TheMapDoublesAtThreeQuartersAndStopsAtMapMax) {
  TempDir dir;
  auto o = opts(dir.path(), 1 << 20);  // 1 MiB at start
  o.map_max = 4 << 20;                 // 4 MiB at most
  const std::string value(60'000, 'v');
  int committed = 0;
  std::vector<std::uint64_t> sizes{1 << 20};
  {
    storage::Env env(o);
    EXPECT_EQ(env.map_usage().limit, std::uint64_t{4} << 20);
    for (int i = 0; i < 200; ++i) {
      if (env.grow()) sizes.push_back(env.map_usage().size);
      try {
        auto txn = env.begin_write();
        txn.put(Table::jobs, "j" + std::to_string(i), value);
        txn.commit();
        ++committed;
      } catch (const storage::LmdbError& e) {
        ASSERT_EQ(e.code(), MDB_MAP_FULL) << e.what();
        if (!env.grow(true)) break;  // at map_max: full for good
        sizes.push_back(env.map_usage().size);
        --i;  // the same value again, in the grown map
      }
    }
    EXPECT_EQ(sizes, (std::vector<std::uint64_t>{1 << 20, 2 << 20, 4 << 20}));
    EXPECT_LE(env.map_usage().used, env.map_usage().size);
    EXPECT_FALSE(env.grow(true)) << "never past map_max";
  }
  EXPECT_GT(committed, 40) << "4 MiB holds more than 40 values of 60 kB";
  EXPECT_LT(committed, 70) << "and fewer than 70";
  storage::Env again(o);  // reopens at its grown size: every committed value is there
  auto r = again.begin_read();
  for (int i = 0; i < committed; ++i) EXPECT_TRUE(r.get(Table::jobs, "j" + std::to_string(i))) << i;
  EXPECT_GE(again.map_usage().size, again.map_usage().used);
}

TEST(Storage, ViewRebuiltFromTheLogEqualsTheLiveOne) {
  TempDir dir;
  storage::Env live(opts(dir.path() / "live"));
  std::mt19937 rng(7);
  Micros now = 1'700'000'000'000'000;
  run(live, cmd::DsCreate{"a"}, now);
  run(live, cmd::DsCreate{"b"}, now);
  for (int i = 0; i < 500; ++i) {
    const std::string ds = rng() % 2 ? "a" : "b", job = "j" + std::to_string(rng() % 40);
    now += rng() % 2;
    switch (rng() % 4) {
      case 0: case 1: run(live, cmd::Submit{ds, job, "c" + std::to_string(rng() % 3), testing::body(job)}, now); break;
      case 2: run(live, cmd::Cancel{ds, job, "c1"}, now); break;
      default: run(live, cmd::Update{ds, job, JobStatus::complete, testing::body("r"), std::nullopt}, now);
    }
  }
  storage::Env rebuilt(opts(dir.path() / "rebuilt"));
  {
    auto src = live.begin_read();
    auto dst = rebuilt.begin_write();
    auto n = domain::fold_log(src, dst);
    ASSERT_TRUE(n.ok()) << n.error().message;
    EXPECT_GT(*n, 100u);
    dst.commit();
  }
  auto a = live.begin_read();
  auto b = rebuilt.begin_read();
  auto diff = domain::diff_views(a, b);
  EXPECT_TRUE(diff.empty()) << diff.front();
}

}  // namespace
}  // namespace ledgerq
