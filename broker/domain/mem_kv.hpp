// MemKv: Kv over std::map, for domain tests (no disk, microseconds a test).
// Semantics match the LMDB implementation, including append's ordering rule.
#pragma once

#include <array>
#include <map>
#include <stdexcept>

#include "kv.hpp"

namespace ledgerq::domain {

class MemKv final : public Kv {
 public:
  using Map = std::map<std::string, std::string, std::less<>>;

  std::optional<std::string> get(Table t, std::string_view key) override {
    auto& m = map(t);
    auto it = m.find(key);
    if (it == m.end()) return std::nullopt;
    return it->second;
  }
  void put(Table t, std::string_view key, std::string_view value) override {
    map(t).insert_or_assign(std::string(key), std::string(value));
  }
  void append(Table t, std::string_view key, std::string_view value) override {
    auto& m = map(t);
    if (!m.empty() && m.rbegin()->first >= key) throw std::logic_error("MemKv::append out of order");
    m.emplace(std::string(key), std::string(value));
  }
  bool erase(Table t, std::string_view key) override {
    auto& m = map(t);
    auto it = m.find(key);
    if (it == m.end()) return false;
    m.erase(it);
    return true;
  }
  std::size_t erase_prefix(Table t, std::string_view prefix) override {
    auto& m = map(t);
    std::size_t n = 0;
    for (auto it = m.lower_bound(prefix); it != m.end() && it->first.starts_with(prefix);) {
      it = m.erase(it);
      ++n;
    }
    return n;
  }
  void scan(Table t, std::string_view from, const Visitor& visit) override {
    auto& m = map(t);
    for (auto it = m.lower_bound(from); it != m.end(); ++it)
      if (!visit(it->first, it->second)) return;
  }
  std::optional<Entry> last_before(Table t, std::string_view below) override {
    auto& m = map(t);
    auto it = below.empty() ? m.end() : m.lower_bound(below);
    if (it == m.begin()) return std::nullopt;
    --it;
    return Entry{it->first, it->second};
  }

  Map& map(Table t) { return maps_[static_cast<std::size_t>(t)]; }
  bool operator==(const MemKv& o) const { return maps_ == o.maps_; }

 private:
  std::array<Map, kTableCount> maps_;
};

}  // namespace ledgerq::domain
