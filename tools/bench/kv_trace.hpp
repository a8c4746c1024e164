// The storage operations of one turn, recorded as the domain makes them and
// replayed against another store: ledgerq-core-bench's "storage alone" rows.
// A replay does the same LMDB work as the turn (the same reads, writes and
// scans, key for key, then the commit) with none of ledgerq's own (decoding,
// the state machine, encoding), so the two rows side by side split a job's
// cost into what the store forces and what the broker's code adds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/kv.hpp"

namespace ledgerq::bench {

struct KvOp {
  enum Kind : std::uint8_t { get, put, append, erase, erase_prefix, scan, last_before } kind;
  domain::Table table;
  std::string key;    ///< the key, prefix, scan start or bound
  std::string value;  ///< put and append
  std::size_t visited = 0;  ///< scan: entries the visitor was shown
};

/// A Kv that forwards to `inner` and appends every call to `ops`.
class RecordingKv final : public domain::Kv {
 public:
  RecordingKv(domain::Kv& inner, std::vector<KvOp>& ops) : inner_(inner), ops_(ops) {}

  std::optional<std::string> get(domain::Table t, std::string_view key) override;
  void put(domain::Table t, std::string_view key, std::string_view value) override;
  void append(domain::Table t, std::string_view key, std::string_view value) override;
  bool erase(domain::Table t, std::string_view key) override;
  std::size_t erase_prefix(domain::Table t, std::string_view prefix) override;
  void scan(domain::Table t, std::string_view from, const domain::Visitor& visit) override;
  std::optional<domain::Entry> last_before(domain::Table t, std::string_view below) override;

 private:
  domain::Kv& inner_;
  std::vector<KvOp>& ops_;
};

/// Makes the recorded calls on `kv`, in order; a scan reads as many entries
/// as it was shown.
void replay(domain::Kv& kv, const std::vector<KvOp>& ops);

}  // namespace ledgerq::bench
