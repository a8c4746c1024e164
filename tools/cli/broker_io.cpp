// Input (bodies, durations) and the one request/reply path to the broker
// (tools/common/broker_call.hpp), its errors mapped to exit codes.
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "cli.hpp"
#include "codec/codec.hpp"

namespace ledgerq::cli {

int exit_for_code(unsigned code) {
  switch (code) {
    case 200: return exit_code::ok;
    case 403: return exit_code::forbidden;
    case 404: return exit_code::not_found;
    case 409: return exit_code::conflict;
    default: break;
  }
  if (code >= 200 && code < 300) return exit_code::ok;
  if (code >= 300 && code < 400) return exit_code::retry_later;
  if (code >= 400 && code < 500) return exit_code::bad_request;
  if (code >= 500 && code < 600) return exit_code::broker_error;
  return exit_code::failure;
}

void usage_error(const std::string& message) { throw Failure(exit_code::usage, message); }

json read_json_arg(const std::string& arg, std::string_view what) {
  std::string text, source;
  if (arg == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    source = "stdin";
  } else if (arg.starts_with("@")) {
    std::ifstream in(arg.substr(1), std::ios::binary);
    if (!in) usage_error(std::string(what) + ": cannot read file '" + arg.substr(1) + "'");
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    source = "file '" + arg.substr(1) + "'";
  } else {
    text = arg;
    source = "the argument";
  }
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    // nlohmann's text: "[json.exception.parse_error.101] parse error at line 1, column 5: ..."
    std::string m = e.what();
    if (auto at = m.find("] "); at != std::string::npos) m = m.substr(at + 2);
    usage_error(std::string(what) + ": invalid JSON in " + source + ": " + m);
  }
}

std::uint64_t now_micros() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

namespace {

int exit_for(tools::CallError::Kind k) {
  switch (k) {
    case tools::CallError::Kind::bad_fields:
    case tools::CallError::Kind::bad_endpoint: return exit_code::usage;
    case tools::CallError::Kind::no_answer: return exit_code::no_broker;
    case tools::CallError::Kind::unreadable: break;
  }
  return exit_code::failure;
}

tools::Connection connect(const Settings& s) {
  try {
    return tools::Connection(tools::BrokerAddress{s.router, s.credentials, s.reply_timeout()});
  } catch (const tools::CallError& e) {
    throw Failure(exit_for(e.kind), e.what());
  }
}

}  // namespace

Connection::Connection(const Settings& settings) : conn_(connect(settings)) {}

Answer Connection::call(std::string_view command, const json& fields) {
  try {
    return conn_.call(command, fields);
  } catch (const tools::CallError& e) {
    throw Failure(exit_for(e.kind), e.what());
  }
}

const Answer& require_ok(const Answer& a, std::string_view command) {
  if (a.code == 200) return a;
  std::string name = std::string(code_name(static_cast<Code>(a.code)));
  if (name.empty() || name == "unknown") name = "error";
  throw Failure(exit_for_code(a.code), std::string(command) + ": " + name + " (" + std::to_string(a.code) +
                                           "): " + (a.message.empty() ? "(no message)" : a.message));
}

}  // namespace ledgerq::cli
