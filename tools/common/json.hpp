// JSON views of the protocol's structs, for the tools (the command-line
// client, the replay tool): one mapping, derived from the codec's field
// model (broker/codec/fields.hpp), so the JSON a tool prints has the same
// keys as the wire. Bodies (Any) become plain JSON values; msgpack binary,
// which JSON lacks, is {"$bin": "<hex>"} both ways (codec/binary_json.hpp,
// PROTOCOL.md §4).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "codec/messages.hpp"
#include "codec/result.hpp"

namespace ledgerq::tools {

using json = nlohmann::ordered_json;

/// A msgpack body as JSON (maps with non-string keys get their keys dumped).
json any_to_json(const Any& a);
/// A JSON value as a canonical msgpack body; bad_request if it cannot be.
Result<Any> any_from_json(const json& j);

json to_json(const StatusRecord& r);
json to_json(const JobInfo& j);
json to_json(const RequestEntry& e);
json to_json(const StatusNotice& n);
json to_json(const Event& e);
/// A reply's fields (rid, code, message, and the body when ok).
json to_json(const Reply& r);

/// A command from its name and a JSON object of its fields (the keys of
/// PROTOCOL.md §6); bad_request naming the field that does not fit.
Result<Command> command_from_json(std::string_view name, const json& fields);

}  // namespace ledgerq::tools
