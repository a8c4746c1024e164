// The tools' JSON views: the wire's keys, bodies as plain JSON, binary as
// {"$bin": hex}, and commands read back from JSON with clear errors.
#include <gtest/gtest.h>

#include "json.hpp"

namespace ledgerq {
namespace {

using tools::json;

TEST(Json, BodiesRoundTripIncludingBinary) {
  const json body = json::parse(R"({"w": 640, "tags": ["a", "b"], "raw": {"$bin": "00ff"}, "ok": true})");
  auto any = tools::any_from_json(body);
  ASSERT_TRUE(any.ok()) << any.error().message;
  EXPECT_EQ(tools::any_to_json(*any), body);
  EXPECT_FALSE(tools::any_from_json(json::parse(R"({"$bin": "zz"})")).ok());
}

// The JSON form of bin (PROTOCOL.md §4), as libclient's Payload and the
// Python binding write it too.
TEST(Json, BinaryIsLowercaseHexAndReadInEitherCase) {
  auto any = tools::any_from_json(json::parse(R"([{"$bin": "00FFaB"}, {"$bin": ""}])"));
  ASSERT_TRUE(any.ok()) << any.error().message;
  EXPECT_EQ(any->msgpack, std::string("\x92\xc4\x03\x00\xff\xab\xc4\x00", 8));
  EXPECT_EQ(tools::any_to_json(*any), json::parse(R"([{"$bin": "00ffab"}, {"$bin": ""}])"));
  EXPECT_FALSE(tools::any_from_json(json::parse(R"({"$bin": "abc"})")).ok()) << "odd length";
  // Not the form: another key beside it, or a value that is not a string.
  auto plain = tools::any_from_json(json::parse(R"({"$bin": 5})"));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(tools::any_to_json(*plain), json::parse(R"({"$bin": 5})"));
  // An ext has no JSON form: the tools show its raw msgpack.
  EXPECT_EQ(tools::any_to_json(Any{std::string("\xd4\x01\x00", 3)}), json::parse(R"({"$msgpack": "d40100"})"));
}

TEST(Json, CommandsFromJsonUseTheWireKeys) {
  auto c = tools::command_from_json(
      "submit", json::parse(R"({"datasource": "ds", "job": "j", "client": "c", "request": {"x": 1},
                                "options": {"priority": 2, "type": "png"}})"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  const auto& s = std::get<cmd::Submit>(*c);
  EXPECT_EQ(s.job, "j");
  EXPECT_EQ(s.options->priority, 2);
  EXPECT_EQ(s.options->type, "png");
  auto bad = tools::command_from_json("submit", json::parse(R"({"datasource": "ds", "job": 5})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("'job'"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(tools::command_from_json("frobnicate", json::object()).ok());
  auto st = tools::command_from_json("update", json::parse(R"({"datasource": "d", "job": "j", "status": "done"})"));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("status"), std::string::npos);
}

TEST(Json, RecordsAndRepliesPrintTheirFields) {
  StatusRecord r;
  r.job = "j";
  r.client = "c";
  r.status = JobStatus::complete;
  r.response = *tools::any_from_json(json("done"));
  const json j = tools::to_json(r);
  EXPECT_EQ(j["status"], "complete");
  EXPECT_EQ(j["response"], "done");
  EXPECT_FALSE(j.contains("worker")) << "empty fields are left out, as on the wire";
  Reply rep{7, Code::not_found, "no such job", reply::Empty{}};
  EXPECT_EQ(tools::to_json(rep), json::parse(R"({"rid": 7, "code": 404, "message": "no such job"})"));
}

}  // namespace
}  // namespace ledgerq
