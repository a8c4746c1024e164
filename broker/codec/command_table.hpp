// Internal to the codec: which commands exist, by wire name, and what each
// is answered with. One table for every command, beside codec.cpp so that a
// new command adds its lines here and its fields in fields.hpp, and the
// encoder and decoders need no change.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <variant>

#include "messages.hpp"

namespace ledgerq::codec {

/// The wire name of each Command alternative, in variant order.
inline constexpr std::array<std::string_view, std::variant_size_v<Command>> kCommandNames = {
    "ping", "ds_create", "ds_delete", "ds_list", "submit", "cancel", "status",
    "update", "latest", "since", "missed", "ds_configure", "submit_batch", "dequeue",
    "ack", "checkpoint", "lookup", "count", "scan", "retry", "delete", "stats", "history"};

/// A default-constructed command of the alternative at `index`
/// (index < kCommandNames.size()), for the decoders to fill in.
Command make_command(std::size_t index);

/// The reply body type a command is answered with, by its wire name;
/// nullopt for a name that is no command.
std::optional<ReplyBody> reply_body_for(std::string_view command);

}  // namespace ledgerq::codec
