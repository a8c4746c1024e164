// What a peer can make the broker write to its log: ids are escaped (no
// forged lines, no terminal escapes), repeated warnings are cut to a few
// lines per peer with a count, and error messages stay within 4096 bytes.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "broker_process.hpp"
#include "raw_peer.hpp"

namespace ledgerq {
namespace {

using namespace std::chrono_literals;
using testing::BrokerProcess;
using testing::RawPeer;
using testing::text;

class Logs : public ::testing::Test {
 protected:
  std::string log() {
    peer_.ok<reply::Ping>(cmd::Ping{});  // what came before is written by now
    std::ifstream f(dir_.path() / "broker.log");
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }
  testing::TempDir dir_;
  BrokerProcess broker_{dir_.path() / "data", {"--log-level", "info"}, dir_.path() / "broker.log"};
  zmq::context_t ctx_{1};
  RawPeer peer_{ctx_, broker_.router()};
};

TEST_F(Logs, AnIdCannotForgeALineOrSendEscapes) {
  peer_.ok<reply::DsCreate>(cmd::DsCreate{"q", std::nullopt});
  const std::string evil = "j\n[2026-01-01 00:00:00.000] [ledgerq] [critical] forged\x1b[2J";
  peer_.ok<reply::Submit>(cmd::Submit{"q", evil, "c", text("b"), std::nullopt});
  // A stale token is worth a warning that names the job.
  auto r = peer_.ok<reply::Ack>(cmd::Ack{"q", {cmd::AckItem{.job = evil, .token = 9, .outcome = "success"}}});
  ASSERT_EQ(r.results.at(0).code, Code::conflict);
  EXPECT_NE(r.results[0].message.find("\\x0a[2026"), std::string::npos) << r.results[0].message;
  const std::string l = log();
  EXPECT_NE(l.find("stale lease token 9 for job 'j\\x0a[2026"), std::string::npos) << l;
  EXPECT_EQ(l.find("\n[2026-01-01 00:00:00.000]"), std::string::npos) << "a forged line:\n" << l;
  EXPECT_EQ(l.find('\x1b'), std::string::npos) << "no escape byte reaches the log";
}

TEST_F(Logs, RepeatedWarningsFromOnePeerAreCutToAFewWithACount) {
  peer_.ok<reply::DsCreate>(cmd::DsCreate{"q", std::nullopt});
  peer_.ok<reply::Submit>(cmd::Submit{"q", "j", "c", text("b"), std::nullopt});
  for (int i = 0; i < 200; ++i)
    peer_.ok<reply::Ack>(cmd::Ack{"q", {cmd::AckItem{.job = "j", .token = 7, .outcome = "success"}}});
  const std::string l = log();
  std::size_t stale = 0;
  for (std::size_t at = 0; (at = l.find("stale lease token 7", at)) != std::string::npos; ++at) ++stale;
  EXPECT_LE(stale, 10u) << "200 refusals, a few lines";
  EXPECT_GE(stale, 1u);
  // The count comes when the window closes (10 s): not waited for here;
  // tests/unit covers LogLimit's count.
}

TEST_F(Logs, AnErrorMessageNeverEchoesAHugeKeyWhole) {
  std::string body = "\x82\xa3" "cmd\xa4ping";
  const std::string big(500'000, 'k');
  body += "\xdb";
  for (int shift = 24; shift >= 0; shift -= 8) body.push_back(static_cast<char>((big.size() >> shift) & 0xff));
  body += big + "\x01";
  body += body.substr(1, 9);  // "cmd":"ping" again
  auto r = peer_.call_raw(body);
  EXPECT_EQ(r.code, Code::bad_request);
  EXPECT_LE(r.message.size(), 4096u);
}

}  // namespace
}  // namespace ledgerq
