// A worker process for the integration tests, on the raw protocol (codec +
// a DEALER): dequeue with a wait, "work" for a while, ack success. Writes
// one line per lease and per ack to a log file, flushed at once, so a test
// can see what it held when it was killed or frozen.
//
//   test_worker ROUTER DATASOURCE NAME LOGFILE WORK_MS LEASE_MS [FIRST_WORK_MS]
//
// FIRST_WORK_MS makes the first job last that long, so that a test that
// sees its LEASE line can kill or freeze the worker while it surely still
// holds that job (with 15 ms of work, a loaded machine could let it ack
// before the signal lands).
// Log lines: "LEASE <job> <token>" and "ACK <job> <token> <code>".
// Exits when the broker stops answering for 5 s.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "codec/codec.hpp"

using namespace ledgerq;

namespace {

std::optional<Reply> call(zmq::socket_t& s, const Request& r, std::chrono::milliseconds timeout) {
  s.send(zmq::buffer(codec::kSignature), zmq::send_flags::sndmore);
  s.send(zmq::buffer(codec::encode_request(r)));
  zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, timeout) == 0) return std::nullopt;
  std::vector<zmq::message_t> parts;
  (void)zmq::recv_multipart(s, std::back_inserter(parts));
  if (parts.size() != 2) return std::nullopt;
  auto reply = codec::decode_reply(parts[1].to_string_view(), command_name(r.command));
  if (!reply) return std::nullopt;
  return std::move(reply).value();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7 && argc != 8) {
    std::fprintf(stderr, "usage: test_worker ROUTER DATASOURCE NAME LOGFILE WORK_MS LEASE_MS [FIRST_WORK_MS]\n");
    return 2;
  }
  const std::string router = argv[1], ds = argv[2], name = argv[3];
  FILE* log = std::fopen(argv[4], "a");
  if (!log) return 2;
  const auto work = std::chrono::milliseconds(std::stoi(argv[5]));
  const auto lease_ms = static_cast<std::uint32_t>(std::stoi(argv[6]));
  auto first_work = argc == 8 ? std::chrono::milliseconds(std::stoi(argv[7])) : work;

  zmq::context_t ctx{1};
  zmq::socket_t sock(ctx, zmq::socket_type::dealer);
  sock.set(zmq::sockopt::linger, 0);
  sock.connect(router);
  std::uint64_t rid = 0;
  for (;;) {
    cmd::Dequeue d;
    d.datasource = ds;
    d.worker = name;
    d.limit = 1;
    d.lease_ms = lease_ms;
    d.wait_ms = 1000u;
    auto r = call(sock, Request{++rid, d}, std::chrono::seconds(5));
    if (!r) return 0;  // the broker is gone: done
    if (r->code != Code::ok) {
      std::fprintf(log, "ERROR dequeue %u %s\n", static_cast<unsigned>(r->code), r->message.c_str());
      std::fflush(log);
      continue;
    }
    for (const auto& job : std::get<reply::Dequeue>(r->body).jobs) {
      std::fprintf(log, "LEASE %s %llu\n", job.state.job.c_str(), static_cast<unsigned long long>(job.state.token));
      std::fflush(log);
      std::this_thread::sleep_for(first_work);  // the work
      first_work = work;
      std::string who(1, static_cast<char>(0xa0 | name.size()));  // fixstr: names are short
      who += name;
      cmd::Ack ack{ds, {cmd::AckItem{job.state.job, job.state.token, "success", Any{who}, std::nullopt,
                                     std::nullopt, ""}}};
      auto a = call(sock, Request{++rid, ack}, std::chrono::seconds(5));
      if (!a) return 0;
      const auto& res = std::get<reply::Ack>(a->body).results.at(0);
      std::fprintf(log, "ACK %s %llu %u\n", job.state.job.c_str(), static_cast<unsigned long long>(job.state.token),
                   static_cast<unsigned>(res.code));
      std::fflush(log);
    }
  }
}
