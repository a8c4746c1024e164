// JobCache: decoded job records as they stand after the last commit, kept
// across turns. A job is submitted in one turn, leased in a later one and
// acked in another; without this each of those turns reads the record back
// from LMDB (two lookups: the id map, then the record) and decodes it.
//
// It holds committed state only. A View hands the turn's records over with
// View::keep_jobs() after the transaction has committed, so an aborted
// turn's never arrive. And a View erases a job from it as soon as it writes
// the job: a View keeps a bounded number of records per turn, and once it
// has dropped the new one it must read the store, not the older one here.
//
// Bounded: two generations of at most `generation` records each. When the
// young one fills, it becomes the old one and the old one is dropped; a
// record found in the old one moves back to the young one. The jobs a
// broker touches again soon stay; a million-job backlog does not.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "codec/messages.hpp"

namespace ledgerq::domain {

class JobCache {
 public:
  JobCache() = default;
  explicit JobCache(std::size_t generation) : generation_(generation) {}

  /// The record under `key` (ds NUL job), or null. Valid until the next call.
  const JobRecord* find(std::string_view key) {
    if (auto it = young_.find(key); it != young_.end()) return &it->second;
    auto it = old_.find(key);
    if (it == old_.end()) return nullptr;
    auto node = old_.extract(it);
    return &insert(std::move(node.key()), std::move(node.mapped()));
  }

  void put(std::string key, JobRecord j) {
    old_.erase(key);
    insert(std::move(key), std::move(j));
  }

  void erase(std::string_view key) {
    if (auto it = young_.find(key); it != young_.end()) young_.erase(it);
    if (auto it = old_.find(key); it != old_.end()) old_.erase(it);
  }

  [[nodiscard]] std::size_t size() const { return young_.size() + old_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  using Map = std::unordered_map<std::string, JobRecord, Hash, std::equal_to<>>;

  JobRecord& insert(std::string key, JobRecord j) {
    if (young_.size() >= generation_ && !young_.count(key)) {
      old_ = std::move(young_);
      young_ = Map{};
    }
    return young_.insert_or_assign(std::move(key), std::move(j)).first->second;
  }

  std::size_t generation_ = 8192;
  Map young_, old_;
};

}  // namespace ledgerq::domain
