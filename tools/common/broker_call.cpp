// The request/reply path of the tools (broker_call.hpp).
#include "broker_call.hpp"

#include <iterator>
#include <vector>
#include <zmq_addon.hpp>

#include "codec/codec.hpp"

namespace ledgerq::tools {

void secure(zmq::socket_t& sock, const std::optional<ledgerq::client::Credentials>& credentials) {
  if (!credentials) return;
  sock.set(zmq::sockopt::curve_serverkey, credentials->server_key);
  sock.set(zmq::sockopt::curve_publickey, credentials->public_key);
  sock.set(zmq::sockopt::curve_secretkey, credentials->secret_key);
}

Connection::Connection(BrokerAddress address)
    : address_(std::move(address)), ctx_(1), sock_(ctx_, zmq::socket_type::dealer) {
  sock_.set(zmq::sockopt::linger, 0);
  secure(sock_, address_.credentials);
  try {
    sock_.connect(address_.router);
  } catch (const zmq::error_t& e) {
    throw CallError(CallError::Kind::bad_endpoint, "--router '" + address_.router + "': " + e.what());
  }
}

Answer Connection::call(std::string_view command, const json& fields) {
  auto cmd = command_from_json(command, fields);
  if (!cmd) throw CallError(CallError::Kind::bad_fields, std::string(command) + ": " + cmd.error().message);
  const std::uint64_t rid = ++rid_;
  const std::string body = codec::encode_request(Request{rid, std::move(cmd).value()});
  sock_.send(zmq::buffer(codec::kSignature), zmq::send_flags::sndmore);
  sock_.send(zmq::buffer(body), zmq::send_flags::none);

  const auto timeout = address_.reply_timeout;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    zmq::pollitem_t item{sock_.handle(), 0, ZMQ_POLLIN, 0};
    if (left.count() <= 0 || zmq::poll(&item, 1, left) == 0)
      throw CallError(CallError::Kind::no_answer, "no answer from " + address_.router + " within " +
                                                      std::to_string(timeout.count()) +
                                                      " ms: is the broker running there? (--router, LEDGERQ_ROUTER)");
    std::vector<zmq::message_t> parts;
    (void)zmq::recv_multipart(sock_, std::back_inserter(parts));
    if (!parts.empty() && parts.front().size() == 0) parts.erase(parts.begin());  // a delimiter
    if (parts.size() != 2 || !codec::check_signature(parts[0].to_string_view()))
      throw CallError(CallError::Kind::unreadable, "the broker's reply is not [signature][body]: is " + address_.router +
                                                       " a ledgerq broker of protocol version 1?");
    const std::string reply_body = parts[1].to_string();
    if (codec::peek_reply_rid(reply_body) != rid) continue;  // a late reply to an earlier request
    auto reply = codec::decode_reply(reply_body, command);
    if (!reply)
      throw CallError(CallError::Kind::unreadable,
                      "unreadable reply to " + std::string(command) + ": " + reply.error().message);

    Answer a;
    a.code = static_cast<unsigned>(reply->code);
    a.message = reply->message;
    a.bytes = reply_body.size();
    // The reply as it came, every key kept (fields a newer broker adds
    // included); the codec's typed view only when JSON cannot hold it.
    json whole = any_to_json(Any{reply_body});
    if (!whole.is_object() || whole.contains("$msgpack")) whole = to_json(*reply);
    a.whole = whole;
    for (const auto& [k, v] : whole.items())
      if (k != "rid" && k != "code" && k != "message") a.fields[k] = v;
    if (a.fields.is_null()) a.fields = json::object();
    return a;
  }
}

}  // namespace ledgerq::tools
