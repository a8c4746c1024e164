// Runs domain commands over a MemKv with a steerable clock.
#pragma once

#include <gtest/gtest.h>

#include "codec/codec.hpp"
#include "domain/machine.hpp"
#include "domain/mem_kv.hpp"

namespace ledgerq::testing {

inline Any body(std::string_view text) {
  // A msgpack str: fixstr header and the bytes (short texts only).
  std::string m(1, static_cast<char>(0xa0 | text.size()));
  m.append(text);
  return Any{m};
}

struct Harness {
  domain::MemKv kv;
  Micros now = 1'700'000'000'000'000;

  domain::Outcome run(const Command& c) {
    domain::View v(kv);
    auto out = domain::execute(v, c, now);
    v.flush();
    return out;
  }

  template <class Body> Body ok(const Command& c) {
    auto out = run(c);
    if (!out.reply.ok()) {
      ADD_FAILURE() << command_name(c) << ": " << out.reply.error().message;
      return Body{};
    }
    return std::get<Body>(out.reply.value());
  }

  Error fails(const Command& c) {
    auto out = run(c);
    if (out.reply.ok()) {
      ADD_FAILURE() << command_name(c) << " succeeded, expected an error";
      return Error{Code::ok, ""};
    }
    EXPECT_TRUE(out.notices.empty()) << "a refused command announced something";
    return out.reply.error();
  }

  std::size_t log_size() { return kv.map(domain::Table::log).size(); }

  void datasource(const std::string& ds) { ok<reply::DsCreate>(cmd::DsCreate{ds}); }
  reply::Submit submit(const std::string& ds, const std::string& job, const std::string& client,
                       std::string_view text = "body") {
    return ok<reply::Submit>(cmd::Submit{ds, job, client, body(text)});
  }
  StatusRecord update(const std::string& ds, const std::string& job, JobStatus s) {
    return ok<reply::Status>(cmd::Update{ds, job, s, std::nullopt, std::nullopt}).status;
  }
};

}  // namespace ledgerq::testing
