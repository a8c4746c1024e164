// The command table of command_table.hpp.
#include <utility>

#include "command_table.hpp"

namespace ledgerq::codec {
namespace {

template <class V, std::size_t... I>
V default_alternative(std::size_t index, std::index_sequence<I...>) {
  static constexpr std::array<V (*)(), sizeof...(I)> make = {
      +[]() -> V { return std::variant_alternative_t<I, V>{}; }...};
  return make[index]();
}

}  // namespace

Command make_command(std::size_t index) {
  return default_alternative<Command>(index, std::make_index_sequence<std::variant_size_v<Command>>{});
}

std::optional<ReplyBody> reply_body_for(std::string_view command) {
  if (command == "ping") return reply::Ping{};
  if (command == "ds_create") return reply::DsCreate{};
  if (command == "ds_delete") return reply::DsDelete{};
  if (command == "ds_list") return reply::DsList{};
  if (command == "submit") return reply::Submit{};
  if (command == "cancel" || command == "status" || command == "update") return reply::Status{};
  if (command == "latest") return reply::Latest{};
  if (command == "since") return reply::Since{};
  if (command == "missed") return reply::Missed{};
  if (command == "ds_configure") return reply::DsConfigure{};
  if (command == "submit_batch") return reply::SubmitBatch{};
  if (command == "dequeue") return reply::Dequeue{};
  if (command == "ack") return reply::Ack{};
  if (command == "checkpoint") return reply::Status{};
  if (command == "lookup") return reply::Lookup{};
  if (command == "count") return reply::Count{};
  if (command == "scan") return reply::Scan{};
  if (command == "retry") return reply::Retry{};
  if (command == "delete") return reply::Delete{};
  if (command == "stats") return reply::Stats{};
  if (command == "history") return reply::History{};
  return std::nullopt;
}

}  // namespace ledgerq::codec

namespace ledgerq {
std::string_view command_name(const Command& c) noexcept { return codec::kCommandNames[c.index()]; }
}  // namespace ledgerq
