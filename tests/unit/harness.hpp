// Runs domain commands over a MemKv with a steerable clock.
#pragma once

#include <gtest/gtest.h>

#include "codec/codec.hpp"
#include "domain/machine.hpp"
#include "domain/mem_kv.hpp"
#include "domain/retention.hpp"

namespace ledgerq::testing {

inline Any body(std::string_view text) {
  // A msgpack str: fixstr header and the bytes (short texts only).
  std::string m(1, static_cast<char>(0xa0 | text.size()));
  m.append(text);
  return Any{m};
}

struct Harness {
  domain::MemKv kv;
  domain::Runtime runtime;
  Micros now = 1'700'000'000'000'000;

  domain::Outcome run(const Command& c) {
    domain::View v(kv);
    auto out = domain::execute(v, c, domain::Context{now, &runtime});
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

  reply::Submit submit_with(const std::string& ds, const std::string& job, JobOptions o,
                            const std::string& client = "c") {
    return ok<reply::Submit>(cmd::Submit{ds, job, client, body(job), o});
  }

  std::vector<JobInfo> dequeue(const std::string& ds, std::uint32_t limit = 1,
                               std::optional<std::vector<std::string>> types = std::nullopt,
                               const std::string& worker = "w1") {
    cmd::Dequeue d;
    d.datasource = ds;
    d.worker = worker;
    d.limit = limit;
    d.types = std::move(types);
    return ok<reply::Dequeue>(d).jobs;
  }

  /// Acks one job; returns the item's result.
  reply::ItemResult ack(const std::string& ds, const std::string& job, std::uint64_t token,
                        const std::string& outcome, std::optional<std::uint32_t> delay_ms = std::nullopt) {
    cmd::AckItem a{job, token, outcome, std::nullopt, std::nullopt, delay_ms, ""};
    if (outcome == "success") a.response = body("done");
    if (outcome == "failure") a.error = "boom";
    auto r = ok<reply::Ack>(cmd::Ack{ds, {a}});
    return r.results.empty() ? reply::ItemResult{} : r.results[0];
  }

  StatusRecord state(const std::string& ds, const std::string& job, const std::string& client = "c") {
    return ok<reply::Status>(cmd::Status{ds, job, client}).status;
  }

  domain::TickResult tick(domain::Retention r = {}, std::size_t budget = 1000) {
    domain::View v(kv);
    auto out = domain::tick(v, now, r, budget);
    v.flush();
    return out;
  }
};

}  // namespace ledgerq::testing
