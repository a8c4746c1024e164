// apply(): the fold of one log event into the view. The only code that
// changes jobs; the live path (record()) and the replay of the log both come
// through here, so the view is the fold of the log by construction.
#include <stdexcept>

#include "codec/codec.hpp"
#include "digest.hpp"
#include "machine.hpp"

namespace ledgerq::domain {
namespace {

Error err(Code c, std::string msg) { return Error{c, std::move(msg)}; }
using codec::quote;
const Any kNil{std::string(1, '\xc0')};

struct Folder {
  View& view;
  const Event& e;
  Micros ts;
  std::vector<Notice> out;

  // Stores a changed job and announces it on its client's topic.
  void change(const std::optional<JobRecord>& before, JobRecord after) {
    after.state.updated = ts;
    StatusNotice n{e.datasource, after.state, ts, 0};
    view.put_job(e.datasource, before, std::move(after));
    view.add_notice(n);
    out.push_back(std::move(n));
  }

  // A job of `key` left the line (finished or removed): bring its key's
  // resource state up to date and let the next job of the key come forward.
  void key_moved(const DatasourceRecord& ds, const StatusRecord& gone) {
    if (gone.key.empty()) return;
    if (ds.options.resources && !gone.lifecycle.empty()) {
      auto k = view.key_state(e.datasource, gone.key).value_or(KeyState{});
      if (gone.status == JobStatus::complete) {
        k.exists = gone.lifecycle == "create";  // as predicted: the tail stands
      } else {
        k = recompute_tail(gone.key, k);  // the prediction counted on it
      }
      view.put_key_state(e.datasource, gone.key, k);
    }
    advance(ds, gone.key);
  }

  // The predicted existence after every queued job, from what exists now:
  // needed again when a create or delete ends without completing.
  KeyState recompute_tail(const std::string& key, KeyState k) {
    k.tail = k.exists;
    const std::string prefix = join(e.datasource, join(key, ""));
    for (const auto& hit : view.index_page(Table::key_queue, prefix, "", false, SIZE_MAX)) {
      auto j = view.job(e.datasource, hit.job);
      if (j && j->state.lifecycle == "create") k.tail = true;
      if (j && j->state.lifecycle == "delete") k.tail = false;
    }
    return k;
  }

  // Lets the first waiting job of a key's line forward when none is. With
  // resources, a job whose key will not exist when it runs fails at once
  // (Cast's rule), and the next one comes forward.
  void advance(const DatasourceRecord& ds, const std::string& key) {
    while (!view.key_has_active(e.datasource, key)) {
      auto head = view.key_head(e.datasource, key);
      if (!head) return;
      auto j = view.job(e.datasource, head->job);
      if (!j) throw std::logic_error("key line points at a missing job");
      const auto before = j;
      j->waiting = false;
      if (!fail_if_resource_missing(ds, before, *j)) {
        view.put_job(e.datasource, before, std::move(*j));  // nothing a client sees has changed
        return;
      }
    }
  }

  // A keyed job coming forward in a datasource with resources: if its key
  // will not exist when it runs, it fails now. Returns whether it did.
  bool fail_if_resource_missing(const DatasourceRecord& ds, const std::optional<JobRecord>& before, JobRecord& j) {
    if (!ds.options.resources || j.state.key.empty() || j.state.lifecycle == "create") return false;
    auto k = view.key_state(e.datasource, j.state.key).value_or(KeyState{});
    if (k.exists) return false;
    j.state.status = JobStatus::failed;
    j.state.error = "resource " + quote(j.state.key) + " does not exist";
    change(before, j);
    view.put_key_state(e.datasource, j.state.key, recompute_tail(j.state.key, k));
    return true;
  }

  // A datasource being deleted: purge slices remove it, and a lease
  // expiry or a collection that the timers meet first removes its job
  // (no tombstone, no notice: nobody can ask for them).
  Result<std::vector<Notice>> run_deleting() {
    if (e.type == EventType::purge) {
      if (e.limit.value_or(0) == 0) return err(Code::bad_request, "purge without a limit");
      view.purge_datasource(e.datasource, *e.limit);
      return std::move(out);
    }
    if (e.type == EventType::expire || e.type == EventType::gc) {
      auto j = view.job(e.datasource, e.job);
      if (!j) return err(Code::not_found, "job " + quote(e.job) + " not found");
      view.erase_job(e.datasource, *j);
      return std::move(out);
    }
    return err(Code::not_found, "datasource " + quote(e.datasource) + " is being deleted");
  }

  Result<std::vector<Notice>> run() {
    auto ds = view.any_datasource(e.datasource);
    if (e.type == EventType::ds_create) {
      if (ds) return err(Code::conflict, "ds_create of existing datasource " + quote(e.datasource));
      view.put_datasource(e.datasource, DatasourceRecord{ts, 0, e.ds_options.value_or(DsOptions{})});
      return std::move(out);
    }
    if (!ds) return err(Code::not_found, "datasource " + quote(e.datasource) + " not found");
    if (ds->deleting) return run_deleting();
    switch (e.type) {
      case EventType::ds_create: break;  // handled above
      case EventType::ds_configure:
        ds->options = e.ds_options.value_or(DsOptions{});
        view.put_datasource(e.datasource, *ds);
        return std::move(out);
      case EventType::ds_delete:
        // Hidden now; its jobs go in bounded slices (purge events, tick()).
        ds->deleting = true;
        view.put_datasource(e.datasource, *ds);
        // A delete of a version-4 log (no `limit`) removed everything at
        // once, and no purge follows it: fold it that way.
        if (!e.limit) view.purge_datasource(e.datasource, SIZE_MAX);
        return std::move(out);
      case EventType::purge:
        return err(Code::bad_request, "purge of datasource " + quote(e.datasource) + ", which is not deleted");
      case EventType::submit: return submit(*ds);
      default: break;
    }
    auto j = view.job(e.datasource, e.job);
    if (!j) return err(Code::not_found, "job " + quote(e.job) + " not found");
    const auto before = j;
    StatusRecord& s = j->state;
    switch (e.type) {
      case EventType::cancel: {
        if (s.status == JobStatus::submitted || s.status == JobStatus::retrying) {
          s.status = JobStatus::cancelled;  // nobody holds it: cancelled now
          s.lease_until = 0;
        } else {
          s.cancel_requested = true;  // its holder decides, or its lease ends
        }
        ds->seq += 1;
        view.put_datasource(e.datasource, *ds);
        view.index_request(e.datasource, ts, ds->seq);
        out.push_back(RequestEntry{e.datasource, "cancel", e.job, s.client, std::nullopt, std::nullopt, ts, ds->seq});
        change(before, *j);
        break;
      }
      case EventType::status:
        if (!e.status) return err(Code::bad_request, "status event without a status");
        s.status = *e.status;
        s.response = e.response;
        s.error = e.error.value_or("");
        if (s.status != JobStatus::accepted) s.lease_until = 0;
        change(before, *j);
        break;
      case EventType::lease:
        s.status = JobStatus::accepted;
        s.worker = e.worker;
        s.token = e.token;
        s.lease_until = e.lease_until;
        s.attempts_made += 1;
        change(before, *j);
        break;
      case EventType::ack:
      case EventType::expire:
        if (!e.status) return err(Code::bad_request, "ack/expire event without a status");
        s.status = *e.status;
        s.lease_until = 0;
        if (s.status == JobStatus::complete) s.response = e.response;
        if (e.error) s.error = *e.error;
        if (e.run_after) s.run_after = *e.run_after;
        if (e.custom_status) s.custom_status = *e.custom_status;
        change(before, *j);
        break;
      case EventType::checkpoint:
        if (e.lease_until) s.lease_until = e.lease_until;
        if (e.request) j->request = *e.request;
        if (e.custom_status) s.custom_status = *e.custom_status;
        if (e.status) {  // released: back to the queue, or cancelled if that was asked meanwhile
          s.status = *e.status;
          s.lease_until = 0;
          if (s.status == JobStatus::submitted) {
            s.attempts_made = 0;
            if (e.run_after) s.run_after = *e.run_after;
            if (e.attempts) s.attempts = *e.attempts;
          }
        }
        change(before, *j);
        break;
      case EventType::retry:
        s.status = JobStatus::retrying;
        s.error.clear();
        if (e.attempts) s.attempts = *e.attempts;
        if (e.priority) s.priority = *e.priority;
        if (e.run_after) s.run_after = *e.run_after;
        if (!s.key.empty()) {
          // Back in its key's line at its old place, but waiting while
          // another job of the key is forward: one job per key at a time.
          j->waiting = view.key_has_active(e.datasource, s.key);
          if (!j->waiting && fail_if_resource_missing(*ds, before, *j)) return std::move(out);
        }
        change(before, *j);
        if (!s.key.empty() && ds->options.resources && !s.lifecycle.empty())
          view.put_key_state(e.datasource, s.key,
                             recompute_tail(s.key, view.key_state(e.datasource, s.key).value_or(KeyState{})));
        break;
      case EventType::gc:
        view.erase_job(e.datasource, *j);
        // The tombstone lives while the log holds the job's submit (retention.cpp, trim).
        if (s.submitted > view.log_trimmed_through())
          view.put_tombstone(e.datasource, e.job,
                             Tombstone{s.client, digest(j->request.msgpack), s.submitted, s.status});
        return std::move(out);
      case EventType::remove:
        view.erase_job(e.datasource, *j);
        if (!is_terminal(s.status)) key_moved(*ds, s);
        return std::move(out);
      default:
        return err(Code::bad_request, "unknown event type");
    }
    if (!is_terminal(before->state.status) && is_terminal(s.status)) key_moved(*ds, s);
    return std::move(out);
  }

  Result<std::vector<Notice>> submit(DatasourceRecord& ds) {
    if (view.job(e.datasource, e.job)) return err(Code::conflict, "submit of existing job " + quote(e.job));
    const JobOptions o = e.options.value_or(JobOptions{});
    JobRecord j;
    StatusRecord& s = j.state;
    s.job = e.job;
    s.client = e.client;
    s.submitted = ts;
    s.priority = o.priority.value_or(1);
    s.run_after = o.run_after.value_or(0);
    s.attempts = o.attempts.value_or(2);
    s.type = o.type;
    s.key = o.key;
    s.lifecycle = o.lifecycle;
    s.custom_status = o.custom_status;
    j.request = e.request.value_or(kNil);  // a nil body is written as nil and read back as absent
    if (!s.key.empty()) {
      j.waiting = view.key_head(e.datasource, s.key).has_value();
      if (ds.options.resources) {
        auto k = view.key_state(e.datasource, s.key).value_or(KeyState{});
        if (s.lifecycle == "create") k.tail = true;
        if (s.lifecycle == "delete") k.tail = false;
        view.put_key_state(e.datasource, s.key, k);
      }
    }
    ds.seq += 1;
    j.order = ds.seq;  // unique in the datasource and increasing: the jobs table's order
    view.put_datasource(e.datasource, ds);
    view.index_request(e.datasource, ts, ds.seq);
    out.push_back(RequestEntry{e.datasource, "request", e.job, e.client, e.request, e.options, ts, ds.seq});
    change(std::nullopt, j);
    return std::move(out);
  }
};

}  // namespace

Result<std::vector<Notice>> apply(View& view, const Event& e, Micros ts) {
  view.advance_clock_to(ts);
  return Folder{view, e, ts, {}}.run();
}

std::vector<Notice> record(View& view, const Event& e, Micros now, Micros* ts_out) {
  const Micros ts = view.next_timestamp(now);
  std::string value = codec::encode(e);
  std::string key = be64(ts);
  view.kv().append(Table::log, key, value);
  view.note_log_append(value.size());
  if (auto* sink = view.log_sink()) sink->emplace_back(std::move(key), std::move(value));
  auto notices = apply(view, e, ts);
  if (!notices) throw std::logic_error("event does not fold into the view: " + notices.error().message);
  if (ts_out) *ts_out = ts;
  return std::move(notices).value();
}

Result<std::vector<Notice>> replay(View& view, std::string_view key, std::string_view value) {
  if (key.size() != 8) return Error{Code::internal, "log key of " + std::to_string(key.size()) + " bytes"};
  const Micros ts = from_be64(key);
  auto ev = codec::decode_event(value);
  if (!ev) return Error{Code::internal, "log entry " + std::to_string(ts) + ": " + ev.error().message};
  view.kv().append(Table::log, key, value);
  view.note_log_append(value.size());
  if (auto* sink = view.log_sink()) sink->emplace_back(std::string(key), std::string(value));
  auto applied = apply(view, *ev, ts);
  if (!applied)
    return Error{Code::internal, "log entry " + std::to_string(ts) + " (" + std::string(event_type_name(ev->type)) +
                                     "): " + applied.error().message};
  return applied;
}

}  // namespace ledgerq::domain
