// The time forms of --from/--to and --follow-for, with an injected "now".
#include <gtest/gtest.h>

#include "codec/time_text.hpp"

namespace ledgerq::codec {
namespace {

constexpr Micros kNow = 1'714'564'800'000'000;  // 2024-05-01T12:00:00Z

TEST(TimeArg, Microseconds) {
  EXPECT_EQ(*parse_time("1714564800123456", kNow), 1'714'564'800'123'456u);
  EXPECT_EQ(*parse_time("0", kNow), 0u);
  EXPECT_FALSE(parse_time("99999999999999999999999", kNow).ok());
}

TEST(TimeArg, Rfc3339) {
  EXPECT_EQ(*parse_time("2024-05-01T12:00:00Z", kNow), kNow);
  EXPECT_EQ(*parse_time("2024-05-01t12:00:00z", kNow), kNow);
  EXPECT_EQ(*parse_time("2024-05-01 12:00:00Z", kNow), kNow);
  EXPECT_EQ(*parse_time("2024-05-01T14:00:00+02:00", kNow), kNow);
  EXPECT_EQ(*parse_time("2024-05-01T11:30:00-00:30", kNow), kNow);
  EXPECT_EQ(*parse_time("2024-05-01T12:00:00.25Z", kNow), kNow + 250'000);
  EXPECT_EQ(*parse_time("2024-05-01T12:00:00.000001Z", kNow), kNow + 1);
  EXPECT_EQ(*parse_time("2024-05-01", kNow), kNow - 12 * 3'600'000'000ull);
}

TEST(TimeArg, Relative) {
  EXPECT_EQ(*parse_time("now", kNow), kNow);
  EXPECT_EQ(*parse_time("-5m", kNow), kNow - 300'000'000);
  EXPECT_EQ(*parse_time("-1h30m", kNow), kNow - 5'400'000'000);
  EXPECT_EQ(*parse_time("-1.5s", kNow), kNow - 1'500'000);
  EXPECT_EQ(*parse_time("-2d", kNow), kNow - 2 * 86'400'000'000ull);
  EXPECT_EQ(*parse_time("-250ms", kNow), kNow - 250'000);
}

TEST(TimeArg, RejectsWithTheFormsInTheMessage) {
  for (const char* bad : {"", "yesterday", "-5x", "--5m", "2024-13-01T00:00:00Z", "2024-02-30",
                          "2024-05-01T12:00:00", "2024-05-01T25:00:00Z", "2024-05-01T12:00:00Zjunk",
                          "2024-05-01T12:00:00+2", "12:00", "5m"}) {
    auto r = parse_time(bad, kNow);
    EXPECT_FALSE(r.ok()) << bad;
  }
  auto r = parse_time("yesterday", kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("RFC 3339"), std::string::npos) << r.error().message;
  EXPECT_NE(parse_time("2024-05-01T12:00:00", kNow).error().message.find("time zone"), std::string::npos);
  EXPECT_FALSE(parse_time("-100000d", 5).ok());  // before the epoch
}

TEST(TimeArg, Durations) {
  EXPECT_EQ(*parse_duration("2"), 2'000'000u);
  EXPECT_EQ(*parse_duration("300ms"), 300'000u);
  EXPECT_EQ(*parse_duration("1m30s"), 90'000'000u);
  EXPECT_EQ(*parse_duration("1w"), 7 * 86'400'000'000ull);
  EXPECT_EQ(*parse_duration("5us"), 5u);
  for (const char* bad : {"", "s", "5 s", "5x", "1.2.3s", "5s3", "-5s", "1e9999s"}) EXPECT_FALSE(parse_duration(bad).ok()) << bad;
}

TEST(TimeArg, FormatsRfc3339WithMicroseconds) {
  EXPECT_EQ(format_time(kNow), "2024-05-01T12:00:00.000000Z");
  EXPECT_EQ(format_time(kNow + 123'456), "2024-05-01T12:00:00.123456Z");
  EXPECT_EQ(format_time(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(*parse_time(format_time(kNow + 7), kNow), kNow + 7);  // round trip
}

}  // namespace
}  // namespace ledgerq::codec
