#include "domain/transitions.hpp"

#include <gtest/gtest.h>

#include "harness.hpp"

namespace ledgerq {
namespace {

constexpr JobStatus kAll[] = {JobStatus::submitted, JobStatus::accepted, JobStatus::complete,
                              JobStatus::cancelled, JobStatus::forbidden, JobStatus::failed,
                              JobStatus::retrying};

TEST(Transitions, TableOfEveryPair) {
  for (JobStatus from : kAll) {
    for (JobStatus to : kAll) {
      const bool allowed = !is_terminal(from) && to != JobStatus::submitted;
      EXPECT_EQ(!domain::refuse_transition(from, to).has_value(), allowed)
          << status_name(from) << " -> " << status_name(to);
    }
  }
}

// The same table through execute(): every pair reached for real.
TEST(Transitions, UpdateFollowsTheTable) {
  for (JobStatus from : kAll) {
    for (JobStatus to : kAll) {
      testing::Harness h;
      h.datasource("ds");
      h.submit("ds", "j", "c");
      if (from != JobStatus::submitted) h.update("ds", "j", from);
      const std::size_t before = h.log_size();
      auto out = h.run(cmd::Update{"ds", "j", to, std::nullopt, std::nullopt});
      if (from == to && to != JobStatus::submitted) {
        EXPECT_TRUE(out.reply.ok()) << "identical repeat of " << status_name(from);
        EXPECT_EQ(h.log_size(), before) << "a no-op must not be logged";
        continue;
      }
      const bool allowed = !is_terminal(from) && to != JobStatus::submitted;
      ASSERT_EQ(out.reply.ok(), allowed) << status_name(from) << " -> " << status_name(to);
      if (!allowed) {
        EXPECT_EQ(out.reply.error().code, Code::conflict);
        EXPECT_EQ(h.log_size(), before);
      }
    }
  }
}

}  // namespace
}  // namespace ledgerq
