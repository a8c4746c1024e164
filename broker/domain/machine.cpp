// execute(): validation and decisions for datasources, submits and the core
// client/driver commands; the worker and admin families are in queue.cpp
// and admin.cpp. Every change is made by recording an event (fold.cpp).
#include "machine.hpp"

#include <algorithm>

#include "codec/codec.hpp"
#include "commands.hpp"
#include "digest.hpp"
#include "transitions.hpp"

namespace ledgerq::domain {
namespace {

using namespace detail;

std::uint32_t page(const std::optional<std::uint32_t>& limit) {
  return std::min(limit.value_or(codec::Limits::default_page), codec::Limits::max_page);
}

// The checks an option set must pass before a submit is considered.
std::optional<Error> check_options(const DatasourceRecord& ds, const JobOptions& o) {
  if (o.priority && (*o.priority < 1 || *o.priority > 3))
    return err(Code::bad_request, "option 'priority' must be 1, 2 or 3");
  if (o.attempts && *o.attempts == 0) return err(Code::bad_request, "option 'attempts' must be at least 1");
  if (!o.lifecycle.empty()) {
    if (o.lifecycle != "create" && o.lifecycle != "delete")
      return err(Code::bad_request, "option 'lifecycle' must be 'create' or 'delete'");
    if (o.key.empty()) return err(Code::bad_request, "option 'lifecycle' needs a 'key'");
    if (!ds.options.resources)
      return err(Code::bad_request, "datasource does not track resources: create it with options.resources");
  }
  return std::nullopt;
}

// Datasource options that would make no sense.
std::optional<Error> check_ds_options(const DsOptions& o) {
  if (o.lease_ms > 86'400'000) return err(Code::bad_request, "options.lease_ms is at most 86400000 (a day)");
  if (o.retry_base_ms && o.retry_cap_ms && o.retry_cap_ms < o.retry_base_ms)
    return err(Code::bad_request, "options.retry_cap_ms must not be below retry_base_ms");
  return std::nullopt;
}

struct Executor {
  Exec x;

  Result<ReplyBody> operator()(const cmd::Ping&) { return reply::Ping{codec::kVersion, x.ctx.now, std::string(codec::kRelease)}; }

  Result<ReplyBody> operator()(const cmd::DsCreate& c) {
    if (c.options)
      if (auto e = check_ds_options(*c.options)) return *e;
    if (auto ds = x.view.any_datasource(c.datasource)) {
      if (!ds->deleting) return reply::DsCreate{false};
      return err(Code::conflict, "datasource " + quote(c.datasource) +
                                     " is still being deleted (its jobs go in slices); create it again in a moment");
    }
    x.record(Event{.type = EventType::ds_create, .datasource = c.datasource, .ds_options = c.options});
    return reply::DsCreate{true};
  }

  Result<ReplyBody> operator()(const cmd::DsConfigure& c) {
    auto ds = x.view.datasource(c.datasource);
    if (!ds) return no_datasource(c.datasource);
    if (auto e = check_ds_options(c.options)) return *e;
    if (!(ds->options == c.options))
      x.record(Event{.type = EventType::ds_configure, .datasource = c.datasource, .ds_options = c.options});
    return reply::DsConfigure{c.options};
  }

  Result<ReplyBody> operator()(const cmd::DsDelete& c) {
    // One being deleted already: false, as for one that does not exist.
    if (!x.view.datasource(c.datasource)) return reply::DsDelete{false};
    // `limit` marks a delete whose purge events follow in the log (format 5).
    x.record(Event{.type = EventType::ds_delete, .datasource = c.datasource, .limit = kPurgeSlice});
    // The first slice at once: a small datasource is gone in this turn (its
    // name free again); a large one goes on in the timers' slices.
    x.record(Event{.type = EventType::purge, .datasource = c.datasource, .limit = kPurgeSlice});
    return reply::DsDelete{true};
  }

  Result<ReplyBody> operator()(const cmd::DsList&) {
    auto all = x.view.datasources();
    if (x.ctx.who && x.ctx.who->role == Role::worker)  // a worker sees the datasources it serves
      std::erase_if(all, [&](const DatasourceInfo& d) { return !x.ctx.who->serves(d.datasource); });
    return reply::DsList{std::move(all)};
  }

  // One job of a submit or a batch. The datasource exists.
  Result<reply::Submit> submit_one(const std::string& ds_name, const DatasourceRecord& ds, const std::string& job,
                                   const std::string& client, const Any& request,
                                   const std::optional<JobOptions>& options) {
    if (auto j = x.view.job(ds_name, job)) {
      // Idempotent for ever: the same submit again is answered as the first.
      if (j->state.client != client)
        return err(Code::conflict, "job " + quote(job) + " was submitted by another client");
      if (j->request != request)
        return err(Code::conflict, "job " + quote(job) + " was submitted with a different request");
      return reply::Submit{job, client, j->state.submitted, true};
    }
    if (auto t = x.view.tombstone(ds_name, job)) {  // finished and collected: still remembered
      if (t->client != client) return err(Code::conflict, "job " + quote(job) + " was submitted by another client");
      if (t->digest != digest(request.msgpack))
        return err(Code::conflict, "job " + quote(job) + " was submitted with a different request");
      return reply::Submit{job, client, t->submitted, true};
    }
    const JobOptions o = options.value_or(JobOptions{});
    if (auto e = check_options(ds, o)) return *e;
    if (ds.options.max_pending != 0) {
      const auto pending = x.view.count(ds_name, JobStatus::submitted, std::nullopt) +
                           x.view.count(ds_name, JobStatus::retrying, std::nullopt);
      if (pending >= ds.options.max_pending)
        return err(Code::queue_full, "datasource " + quote(ds_name) + " holds its max_pending of " +
                                         std::to_string(ds.options.max_pending) + " jobs; submit later");
    }
    if (ds.options.resources && !o.key.empty() && o.lifecycle != "create") {
      // Cast's early rejection: will the key exist when this job's turn comes?
      const auto k = x.view.key_state(ds_name, o.key).value_or(KeyState{});
      const bool queued = x.view.key_head(ds_name, o.key).has_value();
      if (!(queued ? k.tail : k.exists))
        return err(Code::not_found, "resource " + quote(o.key) + " will not exist when this job runs");
    }
    const Micros ts = x.record(Event{.type = EventType::submit, .datasource = ds_name, .job = job, .client = client,
                                     .request = request, .options = options});
    return reply::Submit{job, client, ts, false};
  }

  Result<ReplyBody> operator()(const cmd::Submit& c) {
    auto ds = x.view.datasource(c.datasource);
    if (!ds) return no_datasource(c.datasource);
    auto r = submit_one(c.datasource, *ds, c.job, c.client, c.request, c.options);
    if (!r) return r.error();
    return std::move(r).value();
  }

  Result<ReplyBody> operator()(const cmd::SubmitBatch& c) {
    if (c.jobs.empty() || c.jobs.size() > codec::Limits::max_page)
      return err(Code::bad_request, "a batch holds 1 to 1000 jobs");
    auto ds = x.view.datasource(c.datasource);
    if (!ds) return no_datasource(c.datasource);
    reply::SubmitBatch out;
    for (const auto& j : c.jobs) {
      auto r = submit_one(c.datasource, *x.view.datasource(c.datasource), j.job, c.client, j.request, j.options);
      if (r) out.results.push_back({j.job, Code::ok, "", r->timestamp, r->duplicate});
      else out.results.push_back({j.job, r.error().code, r.error().message, 0, false});
    }
    return out;
  }

  // A job looked up for a client: not found, or forbidden when another
  // client owns it.
  Result<JobRecord> owned_job(std::string_view ds, std::string_view job, std::string_view client) {
    if (!x.view.datasource(ds)) return no_datasource(ds);
    auto j = x.view.job(ds, job);
    if (!j) return no_job(ds, job);
    if (j->state.client != client) return err(Code::forbidden, "job " + quote(job) + " belongs to another client");
    return std::move(*j);
  }

  Result<ReplyBody> operator()(const cmd::Cancel& c) {
    auto j = owned_job(c.datasource, c.job, c.client);
    if (!j) return j.error();
    if (is_terminal(j->state.status)) return reply::Status{j->state};
    x.record(Event{.type = EventType::cancel, .datasource = c.datasource, .job = c.job, .client = c.client});
    return reply::Status{x.view.job(c.datasource, c.job)->state};
  }

  Result<ReplyBody> operator()(const cmd::Status& c) {
    auto j = owned_job(c.datasource, c.job, c.client);
    if (!j) return j.error();
    return reply::Status{j->state};
  }

  Result<ReplyBody> operator()(const cmd::Update& c) {
    if (!x.view.datasource(c.datasource)) return no_datasource(c.datasource);
    auto j = x.view.job(c.datasource, c.job);
    if (!j) return no_job(c.datasource, c.job);
    const StatusRecord& s = j->state;
    const std::string error = c.error.value_or("");
    if (c.status == JobStatus::submitted) return err(Code::conflict, *refuse_transition(s.status, c.status));
    // A repeat of what is already recorded is a no-op: drivers may retry an
    // update whose reply they lost, even after the job has ended.
    if (s.status == c.status && s.response == c.response && s.error == error) return reply::Status{s};
    if (auto why = refuse_transition(s.status, c.status)) return err(Code::conflict, *why);
    x.record(Event{.type = EventType::status, .datasource = c.datasource, .job = c.job, .client = s.client,
                   .status = c.status, .response = c.response, .error = c.error});
    return reply::Status{x.view.job(c.datasource, c.job)->state};
  }

  Result<ReplyBody> operator()(const cmd::Latest& c) {
    if (!x.view.datasource(c.datasource)) return no_datasource(c.datasource);
    return reply::Latest{x.view.latest_request(c.datasource)};
  }

  Result<ReplyBody> operator()(const cmd::Since& c) {
    if (!x.view.datasource(c.datasource)) return no_datasource(c.datasource);
    reply::Since r;
    r.requests = x.view.requests_since(c.datasource, c.timestamp, page(c.limit), r.more);
    r.next = r.requests.empty() ? c.timestamp : r.requests.back().timestamp + 1;
    return r;
  }

  Result<ReplyBody> operator()(const cmd::Missed& c) {
    reply::Missed r;
    const std::uint64_t from = std::max<std::uint64_t>(c.seq, 1);
    r.notices = x.view.notices_since(c.client, from, page(c.limit), r.more);
    r.next = r.notices.empty() ? from : r.notices.back().seq + 1;
    r.last = x.view.client_seq(c.client);
    return r;
  }

  Result<ReplyBody> operator()(const cmd::Dequeue& c) { return dequeue(x, c); }
  Result<ReplyBody> operator()(const cmd::Ack& c) { return ack(x, c); }
  Result<ReplyBody> operator()(const cmd::Checkpoint& c) { return checkpoint(x, c); }
  Result<ReplyBody> operator()(const cmd::Lookup& c) { return lookup(x, c); }
  Result<ReplyBody> operator()(const cmd::Count& c) { return count(x, c); }
  Result<ReplyBody> operator()(const cmd::Scan& c) { return scan(x, c); }
  Result<ReplyBody> operator()(const cmd::Retry& c) { return retry(x, c); }
  Result<ReplyBody> operator()(const cmd::Delete& c) { return remove(x, c); }
  Result<ReplyBody> operator()(const cmd::Stats&) { return stats(x); }
  Result<ReplyBody> operator()(const cmd::History& c) { return history(x, c); }
};

}  // namespace

Outcome execute(View& view, const Command& command, const Context& ctx) {
  Outcome out;
  Executor ex{Exec{view, ctx, out}};
  out.reply = std::visit(ex, command);
  return out;
}

}  // namespace ledgerq::domain
