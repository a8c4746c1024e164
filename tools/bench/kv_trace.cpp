#include "kv_trace.hpp"

namespace ledgerq::bench {

using domain::Table;

std::optional<std::string> RecordingKv::get(Table t, std::string_view key) {
  ops_.push_back({KvOp::get, t, std::string(key), {}});
  return inner_.get(t, key);
}

void RecordingKv::put(Table t, std::string_view key, std::string_view value) {
  ops_.push_back({KvOp::put, t, std::string(key), std::string(value)});
  inner_.put(t, key, value);
}

void RecordingKv::append(Table t, std::string_view key, std::string_view value) {
  ops_.push_back({KvOp::append, t, std::string(key), std::string(value)});
  inner_.append(t, key, value);
}

bool RecordingKv::erase(Table t, std::string_view key) {
  ops_.push_back({KvOp::erase, t, std::string(key), {}});
  return inner_.erase(t, key);
}

std::size_t RecordingKv::erase_prefix(Table t, std::string_view prefix) {
  ops_.push_back({KvOp::erase_prefix, t, std::string(prefix), {}});
  return inner_.erase_prefix(t, prefix);
}

void RecordingKv::scan(Table t, std::string_view from, const domain::Visitor& visit) {
  ops_.push_back({KvOp::scan, t, std::string(from), {}});
  const std::size_t at = ops_.size() - 1;  // the visitor may record more calls
  inner_.scan(t, from, [&](std::string_view k, std::string_view v) {
    ++ops_[at].visited;
    return visit(k, v);
  });
}

std::optional<domain::Entry> RecordingKv::last_before(Table t, std::string_view below) {
  ops_.push_back({KvOp::last_before, t, std::string(below), {}});
  return inner_.last_before(t, below);
}

void replay(domain::Kv& kv, const std::vector<KvOp>& ops) {
  for (const auto& op : ops) {
    switch (op.kind) {
      case KvOp::get:
        (void)kv.get(op.table, op.key);
        break;
      case KvOp::put: kv.put(op.table, op.key, op.value); break;
      case KvOp::append: kv.append(op.table, op.key, op.value); break;
      case KvOp::erase: (void)kv.erase(op.table, op.key); break;
      case KvOp::erase_prefix: (void)kv.erase_prefix(op.table, op.key); break;
      case KvOp::scan: {
        // The same store answers the same: the visitor is shown as many
        // entries (none, when the first call found none) and stops there.
        std::size_t left = op.visited;
        kv.scan(op.table, op.key, [&](std::string_view, std::string_view) { return left > 0 && --left > 0; });
        break;
      }
      case KvOp::last_before:
        (void)kv.last_before(op.table, op.key);
        break;
    }
  }
}

}  // namespace ledgerq::bench
