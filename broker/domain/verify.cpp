#include "verify.hpp"

#include <map>

#include "codec/codec.hpp"
#include "machine.hpp"
#include "view.hpp"

namespace ledgerq::domain {

Result<std::size_t> fold_log(Kv& source, Kv& target) {
  View view(target);
  std::size_t n = 0;
  std::optional<Error> failure;
  source.scan(Table::log, "", [&](std::string_view k, std::string_view v) {
    auto applied = replay(view, k, v);
    if (!applied) {
      failure = applied.error();
      return false;
    }
    ++n;
    return true;
  });
  view.flush();
  if (failure) return *failure;
  return n;
}

namespace {

std::string printable(std::string_view key) {
  std::string out;
  for (unsigned char c : key) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> diff_views(Kv& a, Kv& b, std::size_t max_lines) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < kTableCount && out.size() < max_lines; ++i) {
    const auto t = static_cast<Table>(i);
    if (t == Table::log) continue;
    std::map<std::string, std::string, std::less<>> left;
    // Of meta, only the clock belongs to the view: the format version and
    // the log's size are the store's own (a fold into memory has neither).
    auto is_view = [t](std::string_view k) { return t != Table::meta || k == "last_ts"; };
    a.scan(t, "", [&](std::string_view k, std::string_view v) {
      if (is_view(k)) left.emplace(k, v);
      return true;
    });
    b.scan(t, "", [&](std::string_view k, std::string_view v) {
      if (out.size() >= max_lines) return false;
      if (!is_view(k)) return true;
      auto it = left.find(k);
      const std::string where = std::string(table_name(t)) + "[" + printable(k) + "]";
      if (it == left.end()) out.push_back(where + ": only in the second view");
      else if (it->second != v) out.push_back(where + ": values differ");
      if (it != left.end()) left.erase(it);
      return true;
    });
    for (const auto& [k, v] : left) {
      if (out.size() >= max_lines) break;
      out.push_back(std::string(table_name(t)) + "[" + printable(k) + "]: only in the first view");
    }
  }
  return out;
}

}  // namespace ledgerq::domain
