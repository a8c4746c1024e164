// Payload conversions and the error model, without a broker.
#include <gtest/gtest.h>

#include "support.hpp"

namespace {
using namespace lqt;

TEST(Payload, DefaultIsNil) {
  lq::Payload p;
  EXPECT_TRUE(p.is_nil());
  EXPECT_EQ(p.msgpack(), std::string("\xc0", 1));
  EXPECT_EQ(p.to_json(), "null");
}

TEST(Payload, TextRoundTrips) {
  auto p = lq::Payload::from_text("héllo");
  EXPECT_TRUE(p.is_text());
  EXPECT_FALSE(p.is_bytes());
  EXPECT_EQ(p.as_text(), "héllo");
  EXPECT_EQ(p.to_json(), "\"héllo\"");
}

TEST(Payload, BytesRoundTripIncludingNul) {
  const std::string raw("a\0b\xff", 4);
  auto p = lq::Payload::from_bytes(raw);
  EXPECT_TRUE(p.is_bytes());
  EXPECT_EQ(p.as_bytes(), raw);
  EXPECT_EQ(static_cast<unsigned char>(p.msgpack()[0]), 0xc4);  // bin 8
}

// Binary has one JSON form in every tool and binding (PROTOCOL.md §4).
TEST(Payload, BytesInJsonAreDollarBinHex) {
  const std::string raw("a\0b\xff", 4);
  EXPECT_EQ(lq::Payload::from_bytes(raw).to_json(), R"({"$bin":"610062ff"})");
  EXPECT_EQ(lq::Payload::from_json(R"({"$bin":"610062FF"})"), lq::Payload::from_bytes(raw)) << "either case is read";
  auto nested = lq::Payload::from_json(R"({"img":{"$bin":"00ff"},"n":1})");
  EXPECT_EQ(nested.to_json(), R"({"img":{"$bin":"00ff"},"n":1})");
  EXPECT_EQ(static_cast<unsigned char>(nested.msgpack()[5]), 0xc4) << "stored as msgpack bin";
  // Only a map with the one key "$bin" and a string value is binary.
  EXPECT_EQ(lq::Payload::from_json(R"({"$bin":"00","x":1})").to_json(), R"({"$bin":"00","x":1})");
  EXPECT_EQ(lq::Payload::from_json(R"({"$bin":1})").to_json(), R"({"$bin":1})");
  expect_code(lq::Code::bad_request, [] { (void)lq::Payload::from_json(R"({"$bin":"0g"})"); });
  expect_code(lq::Code::bad_request, [] { (void)lq::Payload::from_json(R"({"$bin":"abc"})"); });
  // An ext has no JSON form.
  expect_code(lq::Code::bad_request, [] { (void)lq::Payload::from_msgpack(std::string("\xd4\x01\x00", 3)).to_json(); });
}

TEST(Payload, JsonRoundTripsAndIsCanonical) {
  auto p = lq::Payload::from_json(R"({"n": 1, "list": [true, null, "x"], "f": 1.5})");
  EXPECT_EQ(p.to_json(), R"({"f":1.5,"list":[true,null,"x"],"n":1})");
  // The same value from msgpack bytes compares equal (canonical form).
  EXPECT_EQ(lq::Payload::from_msgpack(p.msgpack()), p);
  // An integer packed wider than needed is re-encoded canonically.
  EXPECT_EQ(lq::Payload::from_msgpack(std::string("\xcd\x00\x01", 3)), lq::Payload::from_json("1"));
}

TEST(Payload, WrongTypeIsBadRequest) {
  expect_code(lq::Code::bad_request, [] { (void)lq::Payload::from_text("x").as_bytes(); });
  expect_code(lq::Code::bad_request, [] { (void)lq::Payload::from_bytes("x").as_text(); });
  expect_code(lq::Code::bad_request, [] { (void)lq::Payload::from_json("{nope"); });
}

TEST(Payload, MalformedMsgpackIsRefused) {
  expect_code(lq::Code::bad_request, [] { (void)lq::Payload::from_msgpack(""); });
  expect_code(lq::Code::bad_request, [] { (void)lq::Payload::from_msgpack(std::string("\x92\x01", 2)); });
  expect_code(lq::Code::bad_request, [] { (void)lq::Payload::from_msgpack(std::string("\x01\x02", 2)); });
}

TEST(Payload, OverOneMebibyteIsTooLarge) {
  expect_code(lq::Code::too_large, [] { (void)lq::Payload::from_bytes(std::string((1 << 20) + 1, 'x')); });
}

TEST(Errors, CodesHaveNamesAndRetryMeaning) {
  EXPECT_EQ(lq::to_string(lq::Code::not_found), "not_found");
  EXPECT_EQ(lq::to_string(lq::Code::timeout), "timeout");
  EXPECT_EQ(lq::to_string(static_cast<lq::Code>(418)), "unknown");
  EXPECT_TRUE(lq::is_retryable(lq::Code::internal));
  EXPECT_TRUE(lq::is_retryable(lq::Code::timeout));
  EXPECT_FALSE(lq::is_retryable(lq::Code::conflict));
  lq::Error e(lq::Code::conflict, "job j differs");
  EXPECT_STREQ(e.what(), "conflict (409): job j differs");
  EXPECT_EQ(e.message(), "job j differs");
}

TEST(JobStatus, NamesAndTerminality) {
  EXPECT_EQ(lq::to_string(lq::JobStatus::retrying), "retrying");
  EXPECT_EQ(lq::parse_job_status("complete"), lq::JobStatus::complete);
  EXPECT_FALSE(lq::parse_job_status("done"));
  EXPECT_TRUE(lq::is_terminal(lq::JobStatus::failed));
  EXPECT_FALSE(lq::is_terminal(lq::JobStatus::accepted));
}

}  // namespace
