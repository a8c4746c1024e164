// verify_store's decisions on hand-made stores in memory: the rules that
// tell a trimmed log from a differing view.
#include <gtest/gtest.h>

#include "codec/codec.hpp"
#include "domain/mem_kv.hpp"
#include "domain/view.hpp"
#include "verify.hpp"

namespace ledgerq::replay {
namespace {

using domain::Table;

VerifyReport check(domain::MemKv& kv) { return verify_store(kv, 100, nullptr); }

TEST(VerifyStore, AnEmptyStoreIsEqualToItsEmptyFold) {
  domain::MemKv kv;
  auto r = check(kv);
  EXPECT_EQ(r.status, VerifyStatus::ok);
  EXPECT_EQ(r.events, 0u);
}

TEST(VerifyStore, AnEmptyLogUnderANonEmptyViewWasTrimmed) {
  domain::MemKv kv;
  kv.put(Table::datasources, "images", codec::encode(DatasourceRecord{.created = 100}));
  auto r = check(kv);
  EXPECT_EQ(r.status, VerifyStatus::trimmed);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_NE(r.lines[0].find("datasource 'images'"), std::string::npos) << r.lines[0];
}

TEST(VerifyStore, ALogStartingAfterWhatTheViewRemembersWasTrimmed) {
  domain::MemKv kv;
  kv.put(Table::datasources, "old", codec::encode(DatasourceRecord{.created = 100}));
  kv.append(Table::log, domain::be64(200), codec::encode(Event{.type = EventType::ds_create, .datasource = "new"}));
  auto r = check(kv);
  EXPECT_EQ(r.status, VerifyStatus::trimmed);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_NE(r.lines[0].find("datasource 'old' created at"), std::string::npos) << r.lines[0];
}

TEST(VerifyStore, ALogNotStartingWithDsCreateWasTrimmed) {
  domain::MemKv kv;
  kv.append(Table::log, domain::be64(200),
            codec::encode(Event{.type = EventType::submit, .datasource = "d", .job = "j", .client = "c"}));
  auto r = check(kv);
  EXPECT_EQ(r.status, VerifyStatus::trimmed);
  EXPECT_NE(r.lines.at(0).find("with a submit event"), std::string::npos) << r.lines[0];
}

TEST(VerifyStore, AnUndecodableEntryIsADifference) {
  domain::MemKv kv;
  kv.append(Table::log, domain::be64(100), codec::encode(Event{.type = EventType::ds_create, .datasource = "d"}));
  kv.append(Table::log, domain::be64(200), "\xc1 not msgpack");
  auto r = check(kv);
  EXPECT_EQ(r.status, VerifyStatus::differences);
  EXPECT_NE(r.lines.at(0).find("does not fold"), std::string::npos) << r.lines[0];
}

}  // namespace
}  // namespace ledgerq::replay
