// codec: ledgerq's frames <-> typed messages. Pure: no sockets, no clock, no
// storage. msgpack lives here and nowhere else. Shared by the broker,
// libclient and the tools so there is one codec and no drift.
//
// Every function is thread-compatible (no shared state) and total on hostile
// input: bad bytes give an Error value, never an exception or a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "messages.hpp"
#include "result.hpp"

namespace ledgerq::codec {

/// Protocol version spoken by this codec.
inline constexpr std::uint32_t kVersion = 1;
/// The release of this build (the CMake project's version), which ping and
/// stats report beside the protocol version.
inline constexpr std::string_view kRelease = LEDGERQ_RELEASE;
/// First frame of every message: "LDGQ" and the version byte.
inline constexpr std::string_view kSignature{"LDGQ\x01", 5};

/// Limits from PROTOCOL.md §5. Bodies above them are refused with too_large.
struct Limits {
  static constexpr std::size_t max_id = 128;
  static constexpr std::size_t max_datasource = 64;
  static constexpr std::size_t max_error = 4096;
  static constexpr std::size_t max_body = 1 << 20;         ///< request/response value, encoded
  static constexpr std::size_t max_message = (1 << 20) + (64 << 10);  ///< a whole body frame
  /// A stored job record: its body and its response (each up to max_body)
  /// and the rest of its record.
  static constexpr std::size_t max_record = 2 * max_body + (64 << 10);
  static constexpr std::uint32_t default_page = 100;
  static constexpr std::uint32_t max_page = 1000;
  /// The bytes of items (jobs, entries, notices) one reply carries: the
  /// first item always, then items while their bytes stay under this, so a
  /// reply fits max_message (PROTOCOL.md §5). A cut reply says so (more,
  /// continuation), or a dequeue leases fewer jobs.
  static constexpr std::size_t reply_items = 1 << 20;
  static constexpr std::uint32_t max_depth = 32;          ///< nesting inside a body value
};

/// A peer's string between single quotes, fit for a log line, a terminal
/// and an error message (PROTOCOL.md §8.1: messages are at most 4096
/// bytes): control characters (C0, DEL, C1), bytes that are not UTF-8, '\'
/// and '\'' are written \xNN, and past kQuoteMax bytes of `s` the rest is
/// cut and its size said: 'abc...' (500000 bytes). Ids and keys are at most
/// 128 bytes, so a valid one is shown whole.
inline constexpr std::size_t kQuoteMax = 128;
std::string quote(std::string_view s);

/// Checks a message's first frame. ok, or bad_request naming what is wrong
/// (not ours, or a version this codec does not speak).
Result<std::monostate> check_signature(std::string_view frame);

// --- requests (peer -> broker) ---------------------------------------------

/// A request whose command could not be decoded still yields the request id
/// when the id itself was readable, so the error reply can echo it.
struct DecodedRequest {
  std::uint64_t rid = 0;
  Result<Command> command = Error{Code::bad_request, "empty"};
};

DecodedRequest decode_request(std::string_view body);
std::string encode_request(const Request& r);

// --- replies (broker -> peer) ----------------------------------------------

std::string encode_reply(const Reply& r);
/// Decodes a reply to the command named `command` (its body type depends on
/// it). An error reply decodes to a Reply whose code is not ok and whose body
/// is Empty.
Result<Reply> decode_reply(std::string_view body, std::string_view command);
/// The request id of a reply, without decoding the rest (0 if unreadable).
std::uint64_t peek_reply_rid(std::string_view body);

// --- notifications (broker -> subscribers) ---------------------------------

/// Topic frame of a client's status topic / a datasource's request topic.
/// The NUL terminator keeps "ab" from prefix-matching "abc".
std::string status_topic(std::string_view client);
std::string request_topic(std::string_view datasource);

std::string encode(const StatusNotice& n);
std::string encode(const RequestEntry& e);
Result<StatusNotice> decode_status_notice(std::string_view body);
Result<RequestEntry> decode_request_entry(std::string_view body);

// --- storage values (log and view) -----------------------------------------

std::string encode(const Event& e);
std::string encode(const JobRecord& j);
std::string encode(const DatasourceRecord& d);
std::string encode(const KeyState& k);
std::string encode(const Tombstone& t);
Result<KeyState> decode_key_state(std::string_view bytes);
Result<Tombstone> decode_tombstone(std::string_view bytes);
Result<Event> decode_event(std::string_view bytes);
Result<JobRecord> decode_job_record(std::string_view bytes);
Result<DatasourceRecord> decode_datasource_record(std::string_view bytes);

/// The datasource and job a stored log event names (job "" for a
/// datasource's own events), read from its first fields without decoding
/// the rest: for readers that pass over most of the log (history). Views
/// into `bytes`. nullopt when the bytes are not in our encoder's form, which
/// writes `type`, `datasource` and `job` first: then decode_event decides.
struct EventSubject {
  std::string_view datasource, job;
};
std::optional<EventSubject> peek_event_subject(std::string_view bytes);

/// The same decoders without their fast path: unpack() and the general
/// reader for every input. For tests that hold the two to one answer.
namespace general {
DecodedRequest decode_request(std::string_view body);
Result<Reply> decode_reply(std::string_view body, std::string_view command);
Result<JobRecord> decode_job_record(std::string_view bytes);
Result<StatusNotice> decode_status_notice(std::string_view bytes);
Result<RequestEntry> decode_request_entry(std::string_view bytes);
Result<Event> decode_event(std::string_view bytes);
}  // namespace general

// --- body values ------------------------------------------------------------

/// Parses one msgpack value and returns its canonical re-encoding, or
/// bad_request/too_large. Used for request/response bodies given as bytes.
Result<Any> canonical_any(std::string_view msgpack_bytes);

}  // namespace ledgerq::codec
