// The Syncer over a real LMDB file in SyncMode::full: each generation asked
// for becomes durable, in order, and its eventfd says so.
#include <gtest/gtest.h>
#include <poll.h>

#include <filesystem>

#include "domain/view.hpp"
#include "storage/lmdb_env.hpp"
#include "transport/syncer.hpp"

namespace ledgerq {
namespace {

namespace fs = std::filesystem;

bool readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

TEST(Syncer, EachGenerationAskedForBecomesDurableInOrder) {
  std::string tmpl = (fs::temp_directory_path() / "ledgerq-syncer-XXXXXX").string();
  ASSERT_TRUE(mkdtemp(tmpl.data()));
  const fs::path dir = tmpl;
  {
    storage::EnvOptions o;
    o.dir = dir / "db";
    o.map_size = std::size_t{16} << 20;
    o.sync = storage::SyncMode::full;
    storage::Env env(o);
    transport::Syncer syncer(env);
    EXPECT_EQ(syncer.durable(), 0u);
    EXPECT_FALSE(readable(syncer.fd(), 0));
    for (std::uint64_t g = 1; g <= 40; ++g) {
      auto txn = env.begin_write();
      txn.put(domain::Table::jobs, domain::be64(g), "v");
      txn.commit_deferring_sync();
      syncer.request(g);
      if (g % 4 != 0) continue;  // several asked for before one is awaited
      while (syncer.durable() < g) {
        ASSERT_TRUE(readable(syncer.fd(), 5000)) << "no sync done for generation " << g;
        syncer.clear();
        EXPECT_LE(syncer.durable(), g);  // never beyond what was asked for
      }
      EXPECT_EQ(syncer.durable(), g);
    }
    syncer.clear();
    EXPECT_FALSE(readable(syncer.fd(), 0));
    auto txn = env.begin_write();
    txn.put(domain::Table::jobs, domain::be64(41), "v");
    txn.commit_deferring_sync();
    syncer.request(41);
  }  // the Syncer finishes generation 41 before it goes
  storage::EnvOptions o;
  o.dir = dir / "db";
  storage::Env env(o);
  auto r = env.begin_read();
  EXPECT_TRUE(r.get(domain::Table::jobs, domain::be64(41)));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ledgerq
