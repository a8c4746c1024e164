#include "verify.hpp"

#include <optional>

#include "codec/codec.hpp"
#include "domain/mem_kv.hpp"
#include "domain/verify.hpp"
#include "domain/view.hpp"
#include "scan.hpp"
#include "codec/time_text.hpp"

namespace ledgerq::replay {
namespace {

using domain::Table;

// The oldest timestamp the view remembers (a datasource's ds_create, a
// job's submit, a tombstone's submit): all of them are log keys, so an
// untrimmed log starts at or before it.
struct Evidence {
  std::optional<Micros> earliest;
  std::string what;
  bool view_empty = true;
  void note(Micros t, const std::string& description) {
    if (!earliest || t < *earliest) {
      earliest = t;
      what = description;
    }
  }
};

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s) out += c == '\0' ? std::string("/") : std::string(1, c);
  return out;
}

Evidence view_evidence(domain::Kv& kv) {
  Evidence ev;
  kv.scan(Table::datasources, "", [&](std::string_view k, std::string_view v) {
    ev.view_empty = false;
    if (auto d = codec::decode_datasource_record(v))
      ev.note(d->created, "datasource '" + std::string(k) + "' created at " + codec::format_time(d->created));
    return true;
  });
  kv.scan(Table::jobs, "", [&](std::string_view, std::string_view v) {
    ev.view_empty = false;
    if (auto j = codec::decode_job_record(v))
      ev.note(j->state.submitted, "job '" + printable(j->state.job) + "' submitted at " + codec::format_time(j->state.submitted));
    return true;
  });
  kv.scan(Table::tombstones, "", [&](std::string_view k, std::string_view v) {
    ev.view_empty = false;
    if (auto t = codec::decode_tombstone(v))
      ev.note(t->submitted, "the tombstone of job '" + printable(k) + "' submitted at " + codec::format_time(t->submitted));
    return true;
  });
  kv.scan(Table::clients, "", [&](std::string_view, std::string_view) {
    ev.view_empty = false;
    return false;
  });
  return ev;
}

// The source as fold_log sees it, counting the log entries it reads.
class Counting final : public domain::Kv {
 public:
  Counting(domain::Kv& inner, const std::function<void(std::uint64_t)>& progress)
      : inner_(inner), progress_(progress) {}
  std::optional<std::string> get(Table t, std::string_view k) override { return inner_.get(t, k); }
  void put(Table t, std::string_view k, std::string_view v) override { inner_.put(t, k, v); }
  void append(Table t, std::string_view k, std::string_view v) override { inner_.append(t, k, v); }
  bool erase(Table t, std::string_view k) override { return inner_.erase(t, k); }
  std::size_t erase_prefix(Table t, std::string_view p) override { return inner_.erase_prefix(t, p); }
  std::optional<domain::Entry> last_before(Table t, std::string_view b) override { return inner_.last_before(t, b); }
  void scan(Table t, std::string_view from, const domain::Visitor& visit) override {
    if (t != Table::log || !progress_) return inner_.scan(t, from, visit);
    inner_.scan(t, from, [&](std::string_view k, std::string_view v) {
      if ((++n_ & 1023) == 0) progress_(n_);
      return visit(k, v);
    });
  }

 private:
  domain::Kv& inner_;
  const std::function<void(std::uint64_t)>& progress_;
  std::uint64_t n_ = 0;
};

// diff_views speaks of a first and a second view; here they have names.
std::string name_views(std::string line) {
  auto replace = [&](std::string_view from, std::string_view to) {
    if (auto at = line.find(from); at != std::string::npos) line.replace(at, from.size(), to);
  };
  replace("only in the first view", "only in the broker's view");
  replace("only in the second view", "only in the fold of the log (missing from the broker's view)");
  replace("values differ", "the broker's view differs from the fold of the log");
  return line;
}

}  // namespace

VerifyReport verify_store(domain::Kv& snapshot, std::size_t max_diffs,
                          const std::function<void(std::uint64_t)>& progress) {
  VerifyReport r;
  const LogBounds bounds = log_bounds(snapshot);
  const Evidence ev = view_evidence(snapshot);

  if (!bounds.first) {
    if (!ev.view_empty) {
      r.status = VerifyStatus::trimmed;
      r.lines.push_back("the log is empty but the view is not (" +
                        (ev.what.empty() ? std::string("it has client topics") : "it holds " + ev.what) +
                        "): the whole log was trimmed by retention, so the view cannot be verified from it");
    }
    return r;
  }
  if (auto through = snapshot.get(domain::Table::meta, "log_trimmed_through"); through && through->size() == 8) {
    r.status = VerifyStatus::trimmed;  // the broker's own record of it
    r.lines.push_back("the log was trimmed by retention: it begins at " +
                      (bounds.first ? codec::format_time(*bounds.first) + " (" + std::to_string(*bounds.first) + ")" : "-") +
                      ", after entries through " + codec::format_time(domain::from_be64(*through)) +
                      " were removed; the view cannot be verified from it");
    return r;
  }
  if (bounds.trimmed()) {
    r.status = VerifyStatus::trimmed;
    r.lines.push_back("the log was trimmed by retention: it begins at " + codec::format_time(*bounds.first) + " (" +
                      std::to_string(*bounds.first) + ") with a " +
                      std::string(event_type_name(bounds.first_event->type)) +
                      " event, not the ds_create an untrimmed log starts with; the view cannot be verified "
                      "from it");
    return r;
  }
  if (ev.earliest && *ev.earliest < *bounds.first) {
    r.status = VerifyStatus::trimmed;
    r.lines.push_back("the log was trimmed by retention: it begins at " + codec::format_time(*bounds.first) + " (" +
                      std::to_string(*bounds.first) + ") but the view holds " + ev.what +
                      "; the view cannot be verified from it");
    return r;
  }

  domain::MemKv fresh;
  Counting source(snapshot, progress);
  auto folded = domain::fold_log(source, fresh);
  if (!folded) {
    r.status = VerifyStatus::differences;
    r.lines.push_back("the log does not fold into a view: " + folded.error().message);
    return r;
  }
  r.events = *folded;
  for (auto& line : domain::diff_views(snapshot, fresh, max_diffs)) r.lines.push_back(name_views(std::move(line)));
  if (!r.lines.empty()) r.status = VerifyStatus::differences;
  return r;
}

}  // namespace ledgerq::replay
