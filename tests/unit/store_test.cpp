// transport::Store, the store as the loop writes it: turns go straight into
// one open LMDB transaction, and a turn that fails part-way is undone by
// building that transaction again from the journal.
#include <gtest/gtest.h>

#include "broker_process.hpp"  // tools/common: TempDir
#include "codec/codec.hpp"
#include "domain/machine.hpp"
#include "domain/view.hpp"
#include "storage/lmdb_env.hpp"
#include "transport/store.hpp"

namespace ledgerq {
namespace {

constexpr Micros kNow = 1'700'000'000'000'000;

Any text(std::string_view t) {
  std::string m(1, static_cast<char>(0xa0 | t.size()));
  m.append(t);
  return Any{m};
}

storage::EnvOptions options(const std::filesystem::path& dir) {
  storage::EnvOptions o;
  o.dir = dir;
  o.map_size = std::size_t{16} << 20;
  o.sync = storage::SyncMode::none;
  return o;
}

// One command as a turn of the broker: run, kept, journaled.
void turn(transport::Store& store, const Command& c, Micros now) {
  auto t = store.begin_turn();
  domain::View v(t.kv());
  std::vector<domain::Entry> logged;
  v.capture_log(&logged);
  auto out = domain::execute(v, c, domain::Context{now, nullptr});
  ASSERT_TRUE(out.reply.ok()) << out.reply.error().message;
  v.flush();
  t.commit();
  store.journal(logged);
}

std::optional<JobStatus> status(domain::Kv& kv, const std::string& job) {
  domain::View v(kv);
  auto j = v.job("q", job);
  return j ? std::optional(j->state.status) : std::nullopt;
}

TEST(Store, ATurnThatFailsPartWayLeavesNothingAndTheTurnsBeforeItStay) {
  tools::TempDir dir;
  storage::Env env(options(dir.path()));
  {
    transport::Store store(env, std::uint64_t{1} << 20);
    turn(store, cmd::DsCreate{"q", std::nullopt}, kNow);
    turn(store, cmd::Submit{"q", "kept", "c", text("a"), std::nullopt}, kNow + 1);
    {
      // A turn that writes (a submit, its log entry, its notice) and then
      // fails before it is kept, as an exception out of the state machine.
      try {
        auto t = store.begin_turn();
        domain::View v(t.kv());
        auto out = domain::execute(v, cmd::Submit{"q", "lost", "c", text("b"), std::nullopt},
                                   domain::Context{kNow + 2, nullptr});
        ASSERT_TRUE(out.reply.ok());
        v.flush();
        ASSERT_EQ(status(t.kv(), "lost"), JobStatus::submitted) << "written into the open transaction";
        throw std::runtime_error("failed part-way");
      } catch (const std::runtime_error&) {
      }
    }
    auto t = store.begin_turn();
    EXPECT_EQ(status(t.kv(), "kept"), JobStatus::submitted) << "the journaled turns are there again";
    EXPECT_EQ(status(t.kv(), "lost"), std::nullopt) << "nothing of the failed turn";
    {
      domain::View v(t.kv());
      EXPECT_FALSE(v.log_event(kNow + 2)) << "nor its log entry";
      EXPECT_EQ(v.log_entries(), 2u);
    }
    t.commit();
    // The next turn goes on from there, and the id is free.
    turn(store, cmd::Submit{"q", "lost", "c", text("b"), std::nullopt}, kNow + 3);
  }
  // Closed (a last checkpoint) and read back: LMDB holds the same.
  auto r = env.begin_read();
  EXPECT_EQ(status(r, "kept"), JobStatus::submitted);
  EXPECT_EQ(status(r, "lost"), JobStatus::submitted);
  domain::View v(r);
  EXPECT_TRUE(v.log_event(kNow + 3));
}

TEST(Store, AFailedTurnAfterACheckpointKeepsWhatTheCheckpointWrote) {
  tools::TempDir dir;
  storage::Env env(options(dir.path()));
  transport::Store store(env, std::uint64_t{1} << 20);
  turn(store, cmd::DsCreate{"q", std::nullopt}, kNow);
  turn(store, cmd::Submit{"q", "a", "c", text("a"), std::nullopt}, kNow + 1);
  store.checkpoint();
  turn(store, cmd::Submit{"q", "b", "c", text("b"), std::nullopt}, kNow + 2);
  try {
    auto t = store.begin_turn();
    domain::View v(t.kv());
    (void)domain::execute(v, cmd::Submit{"q", "c", "c", text("c"), std::nullopt}, domain::Context{kNow + 3, nullptr});
    v.flush();
    throw std::runtime_error("failed part-way");
  } catch (const std::runtime_error&) {
  }
  auto t = store.begin_turn();
  EXPECT_EQ(status(t.kv(), "a"), JobStatus::submitted) << "in LMDB";
  EXPECT_EQ(status(t.kv(), "b"), JobStatus::submitted) << "applied again from the journal";
  EXPECT_EQ(status(t.kv(), "c"), std::nullopt);
  t.commit();
}

}  // namespace
}  // namespace ledgerq
