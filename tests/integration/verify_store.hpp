// The invariant, checked on a stopped broker's data directory: the view
// equals the fold of its log (nothing half-applied).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>

#include "domain/mem_kv.hpp"
#include "domain/verify.hpp"
#include "storage/lmdb_env.hpp"

namespace ledgerq::testing {

inline void expect_view_is_fold_of_log(const std::filesystem::path& data) {
  storage::EnvOptions o;
  o.dir = data;
  o.read_only = true;
  storage::Env env(o);
  auto txn = env.begin_read();
  domain::MemKv rebuilt;
  auto n = domain::fold_log(txn, rebuilt);
  ASSERT_TRUE(n.ok()) << n.error().message;
  auto diff = domain::diff_views(txn, rebuilt);
  EXPECT_TRUE(diff.empty()) << diff.size() << " differences, first: " << diff.front();
}

}  // namespace ledgerq::testing
