// Input (bodies, durations) and the one request/reply path to the broker:
// JSON fields -> tools::command_from_json -> codec -> DEALER -> reply ->
// JSON with the wire's keys.
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <zmq_addon.hpp>

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

void secure(zmq::socket_t& sock, const Settings& settings) {
  if (!settings.credentials) return;
  sock.set(zmq::sockopt::curve_serverkey, settings.credentials->server_key);
  sock.set(zmq::sockopt::curve_publickey, settings.credentials->public_key);
  sock.set(zmq::sockopt::curve_secretkey, settings.credentials->secret_key);
}

Connection::Connection(const Settings& settings)
    : settings_(settings), ctx_(1), sock_(ctx_, zmq::socket_type::dealer) {
  sock_.set(zmq::sockopt::linger, 0);
  secure(sock_, settings);
  try {
    sock_.connect(settings.router);
  } catch (const zmq::error_t& e) {
    usage_error("--router '" + settings.router + "': " + e.what());
  }
}

Answer Connection::call(std::string_view command, const json& fields) {
  auto cmd = tools::command_from_json(command, fields);
  if (!cmd) usage_error(std::string(command) + ": " + cmd.error().message);
  const std::uint64_t rid = ++rid_;
  const std::string body = codec::encode_request(Request{rid, std::move(cmd).value()});
  sock_.send(zmq::buffer(codec::kSignature), zmq::send_flags::sndmore);
  sock_.send(zmq::buffer(body), zmq::send_flags::none);

  const auto deadline = std::chrono::steady_clock::now() + settings_.reply_timeout();
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    zmq::pollitem_t item{sock_.handle(), 0, ZMQ_POLLIN, 0};
    if (left.count() <= 0 || zmq::poll(&item, 1, left) == 0)
      throw Failure(exit_code::no_broker, "no answer from " + settings_.router + " within " +
                                              std::to_string(settings_.reply_timeout().count()) +
                                              " ms: is the broker running there? (--router, LEDGERQ_ROUTER)");
    std::vector<zmq::message_t> parts;
    (void)zmq::recv_multipart(sock_, std::back_inserter(parts));
    if (!parts.empty() && parts.front().size() == 0) parts.erase(parts.begin());  // a delimiter
    if (parts.size() != 2 || !codec::check_signature(parts[0].to_string_view()))
      throw Failure(exit_code::failure, "the broker's reply is not [signature][body]: is " + settings_.router +
                                            " a ledgerq broker of protocol version 1?");
    const std::string reply_body = parts[1].to_string();
    if (codec::peek_reply_rid(reply_body) != rid) continue;  // a late reply to an earlier request
    auto reply = codec::decode_reply(reply_body, command);
    if (!reply) throw Failure(exit_code::failure, "unreadable reply to " + std::string(command) + ": " + reply.error().message);

    Answer a;
    a.code = static_cast<unsigned>(reply->code);
    a.message = reply->message;
    // The reply as it came, every key kept (fields a newer broker adds
    // included); the codec's typed view only when JSON cannot hold it.
    json whole = tools::any_to_json(Any{reply_body});
    if (!whole.is_object() || whole.contains("$msgpack")) whole = tools::to_json(*reply);
    a.whole = whole;
    for (const auto& [k, v] : whole.items())
      if (k != "rid" && k != "code" && k != "message") a.fields[k] = v;
    if (a.fields.is_null()) a.fields = json::object();
    return a;
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
