// The index entries of one job record: which ordered keys point at it, a
// pure function of (datasource, record). View::put_job() builds them for the
// record before and after a change and moves the difference, so no code
// path can forget one (kv.hpp lists the tables and their key layouts).
//
// put_job() runs for every change of every job: the keys are built into
// strings that keep their capacity from call to call, and values point into
// the record, so a turn allocates nothing for them once warm.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "codec/messages.hpp"
#include "kv.hpp"

namespace ledgerq::domain {

/// The type of the `ready` line that holds the pending jobs of every type
/// of a datasource: not a valid job type (PROTOCOL.md §5: [A-Za-z0-9_.-]).
inline constexpr std::string_view kAllTypes = "*";

struct IndexEntry {
  Table table;
  std::string key;
  std::string_view value;  ///< into the record build() was given
  bool operator==(const IndexEntry&) const = default;
};

class IndexEntries {
 public:
  // Every index entry of one job. Order does not matter.
  void build(std::string_view ds, const JobRecord& j) {
    n_ = 0;
    const StatusRecord& s = j.state;
    {
      std::string& k = next(Table::by_status, s.job);
      k.append(ds).push_back('\0');
      k.push_back(byte(s.status));
      append_be64(k, s.submitted);
    }
    joined(Table::by_client, ds, s.client, s.submitted, s.job);
    if (!s.type.empty()) joined(Table::by_type, ds, s.type, s.submitted, s.job);
    if (!s.key.empty()) {
      joined(Table::by_key, ds, s.key, s.submitted, s.job);
      if (!is_terminal(s.status)) joined(Table::key_queue, ds, s.key, s.submitted, s.job);
      if (!is_terminal(s.status) && !j.waiting) joined(Table::key_active, ds, s.key, s.submitted, s.job);
    }
    if (is_pending(s) && !j.waiting) {
      // Its type's line, and the line of all types (kAllTypes), which a
      // dequeue that names no types reads alone however many types wait.
      for (std::string_view type : {std::string_view(s.type), kAllTypes}) {
        std::string& k = line(Table::ready, ds, type, byte(s.priority), s.job);
        append_be64(k, eligible_at(s));
        append_be64(k, s.submitted);
      }
    }
    if (s.status == JobStatus::accepted && s.lease_until != 0) timed(Table::leases, s.lease_until, ds, s.job);
    if (is_terminal(s.status)) timed(Table::finished, s.updated, ds, s.job);
  }

  void clear() { n_ = 0; }
  const IndexEntry* begin() const { return e_.data(); }
  const IndexEntry* end() const { return e_.data() + n_; }
  bool contains(const IndexEntry& e) const { return std::find(begin(), end(), e) != end(); }
  bool in_ready() const {
    return std::any_of(begin(), end(), [](const IndexEntry& e) { return e.table == Table::ready; });
  }

 private:
  static char byte(JobStatus s) { return static_cast<char>(s); }
  static char byte(std::uint8_t p) { return static_cast<char>(p); }
  static bool is_pending(const StatusRecord& s) {
    return s.status == JobStatus::submitted || s.status == JobStatus::retrying;
  }
  static Micros eligible_at(const StatusRecord& s) { return std::max(s.run_after, s.submitted); }
  static void append_be64(std::string& k, std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) k.push_back(static_cast<char>((v >> shift) & 0xff));
  }
  std::string& next(Table t, std::string_view value) {
    IndexEntry& e = e_[n_++];  // build() adds at most kMax
    e.table = t;
    e.key.clear();
    e.value = value;
    return e.key;
  }
  // ds NUL a NUL be64(n)
  std::string& joined(Table t, std::string_view ds, std::string_view a, std::uint64_t n, std::string_view value) {
    std::string& k = next(t, value);
    k.append(ds).push_back('\0');
    k.append(a).push_back('\0');
    append_be64(k, n);
    return k;
  }
  // ds NUL type NUL prio: a ready line, to which the caller appends
  std::string& line(Table t, std::string_view ds, std::string_view a, char prio, std::string_view value) {
    std::string& k = next(t, value);
    k.append(ds).push_back('\0');
    k.append(a).push_back('\0');
    k.push_back(prio);
    return k;
  }
  // be64(time) ds NUL job -> ""
  void timed(Table t, std::uint64_t time, std::string_view ds, std::string_view job) {
    std::string& k = next(t, "");
    append_be64(k, time);
    k.append(ds).push_back('\0');
    k.append(job);
  }

  static constexpr std::size_t kMax = 9;  // the most one job can have (8)
  std::array<IndexEntry, kMax> e_;
  std::size_t n_ = 0;
};

}  // namespace ledgerq::domain
