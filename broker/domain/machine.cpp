#include "machine.hpp"

#include <algorithm>
#include <stdexcept>

#include "codec/codec.hpp"
#include "transitions.hpp"

namespace ledgerq::domain {
namespace {

Error err(Code c, std::string msg) { return Error{c, std::move(msg)}; }

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

Error no_datasource(std::string_view ds) { return err(Code::not_found, "datasource " + quoted(ds) + " not found"); }
Error no_job(std::string_view ds, std::string_view job) {
  return err(Code::not_found, "job " + quoted(job) + " not found in datasource " + quoted(ds));
}

std::uint32_t page(const std::optional<std::uint32_t>& limit) {
  return std::min(limit.value_or(codec::Limits::default_page), codec::Limits::max_page);
}

// Appends the event to the log at the next timestamp and folds it into the
// view. A fold error here is a bug in execute(): it throws, and the batch's
// transaction is aborted.
std::vector<Notice> record(View& view, const Event& e, Micros now, Micros* ts_out = nullptr) {
  const Micros ts = view.next_timestamp(now);
  view.kv().append(Table::log, be64(ts), codec::encode(e));
  auto notices = apply(view, e, ts);
  if (!notices) throw std::logic_error("event does not fold into the view: " + notices.error().message);
  if (ts_out) *ts_out = ts;
  return std::move(notices).value();
}

// A job looked up for a client: not found, or forbidden when another
// client owns it.
Result<JobRecord> owned_job(View& view, std::string_view ds, std::string_view job, std::string_view client) {
  if (!view.datasource(ds)) return no_datasource(ds);
  auto j = view.job(ds, job);
  if (!j) return no_job(ds, job);
  if (j->state.client != client)
    return err(Code::forbidden, "job " + quoted(job) + " belongs to another client");
  return std::move(*j);
}

struct Executor {
  View& view;
  Micros now;
  std::vector<Notice> notices;

  Result<ReplyBody> operator()(const cmd::Ping&) {
    return reply::Ping{codec::kVersion, now};
  }

  Result<ReplyBody> operator()(const cmd::DsCreate& c) {
    if (view.datasource(c.datasource)) return reply::DsCreate{false};
    notices = record(view, Event{.type = EventType::ds_create, .datasource = c.datasource}, now);
    return reply::DsCreate{true};
  }

  Result<ReplyBody> operator()(const cmd::DsDelete& c) {
    if (!view.datasource(c.datasource)) return reply::DsDelete{false};
    notices = record(view, Event{.type = EventType::ds_delete, .datasource = c.datasource}, now);
    return reply::DsDelete{true};
  }

  Result<ReplyBody> operator()(const cmd::DsList&) { return reply::DsList{view.datasources()}; }

  Result<ReplyBody> operator()(const cmd::Submit& c) {
    if (!view.datasource(c.datasource)) return no_datasource(c.datasource);
    if (auto j = view.job(c.datasource, c.job)) {
      // Idempotent for ever: the same submit again is answered as the first.
      if (j->state.client != c.client)
        return err(Code::conflict, "job " + quoted(c.job) + " was submitted by another client");
      if (j->request != c.request)
        return err(Code::conflict, "job " + quoted(c.job) + " was submitted with a different request");
      return reply::Submit{c.job, c.client, j->state.submitted, true};
    }
    Micros ts = 0;
    notices = record(view,
                     Event{.type = EventType::submit, .datasource = c.datasource, .job = c.job,
                           .client = c.client, .request = c.request},
                     now, &ts);
    return reply::Submit{c.job, c.client, ts, false};
  }

  Result<ReplyBody> operator()(const cmd::Cancel& c) {
    auto j = owned_job(view, c.datasource, c.job, c.client);
    if (!j) return j.error();
    if (is_terminal(j->state.status)) return reply::Status{j->state};
    notices = record(view,
                     Event{.type = EventType::cancel, .datasource = c.datasource, .job = c.job,
                           .client = c.client},
                     now);
    return reply::Status{view.job(c.datasource, c.job)->state};
  }

  Result<ReplyBody> operator()(const cmd::Status& c) {
    auto j = owned_job(view, c.datasource, c.job, c.client);
    if (!j) return j.error();
    return reply::Status{j->state};
  }

  Result<ReplyBody> operator()(const cmd::Update& c) {
    if (!view.datasource(c.datasource)) return no_datasource(c.datasource);
    auto j = view.job(c.datasource, c.job);
    if (!j) return no_job(c.datasource, c.job);
    const StatusRecord& s = j->state;
    const std::string error = c.error.value_or("");
    if (c.status == JobStatus::submitted) return err(Code::conflict, *refuse_transition(s.status, c.status));
    // A repeat of what is already recorded is a no-op: drivers may retry an
    // update whose reply they lost, even after the job has ended.
    if (s.status == c.status && s.response == c.response && s.error == error) return reply::Status{s};
    if (auto why = refuse_transition(s.status, c.status)) return err(Code::conflict, *why);
    notices = record(view,
                     Event{.type = EventType::status, .datasource = c.datasource, .job = c.job,
                           .client = s.client, .status = c.status, .response = c.response,
                           .error = c.error},
                     now);
    return reply::Status{view.job(c.datasource, c.job)->state};
  }

  Result<ReplyBody> operator()(const cmd::Latest& c) {
    if (!view.datasource(c.datasource)) return no_datasource(c.datasource);
    return reply::Latest{view.latest_request(c.datasource)};
  }

  Result<ReplyBody> operator()(const cmd::Since& c) {
    if (!view.datasource(c.datasource)) return no_datasource(c.datasource);
    reply::Since r;
    r.requests = view.requests_since(c.datasource, c.timestamp, page(c.limit), r.more);
    r.next = r.requests.empty() ? c.timestamp : r.requests.back().timestamp + 1;
    return r;
  }

  Result<ReplyBody> operator()(const cmd::Missed& c) {
    reply::Missed r;
    const std::uint64_t from = std::max<std::uint64_t>(c.seq, 1);
    r.notices = view.notices_since(c.client, from, page(c.limit), r.more);
    r.next = r.notices.empty() ? from : r.notices.back().seq + 1;
    r.last = view.client_seq(c.client);
    return r;
  }
};

// Publishes a change of a job's status record on its client's topic.
StatusNotice notice_of(View& view, std::string_view ds, const StatusRecord& s, Micros ts) {
  StatusNotice n{std::string(ds), s, ts, 0};
  view.add_notice(n);
  return n;
}

}  // namespace

Outcome execute(View& view, const Command& command, Micros now) {
  Executor ex{view, now, {}};
  Outcome out;
  out.reply = std::visit(ex, command);
  out.notices = std::move(ex.notices);
  return out;
}

Result<std::vector<Notice>> apply(View& view, const Event& e, Micros ts) {
  view.advance_clock_to(ts);
  std::vector<Notice> out;
  auto ds = view.datasource(e.datasource);
  switch (e.type) {
    case EventType::ds_create:
      if (ds) return err(Code::conflict, "ds_create of existing datasource " + quoted(e.datasource));
      view.put_datasource(e.datasource, DatasourceRecord{ts, 0});
      return out;

    case EventType::ds_delete:
      if (!ds) return no_datasource(e.datasource);
      view.erase_datasource(e.datasource);
      return out;

    case EventType::submit: {
      if (!ds) return no_datasource(e.datasource);
      if (view.job(e.datasource, e.job)) return err(Code::conflict, "submit of existing job " + quoted(e.job));
      if (!e.request) return err(Code::bad_request, "submit event without a request");
      JobRecord j;
      j.state = StatusRecord{e.job, e.client, JobStatus::submitted, std::nullopt, "", ts, ts, false};
      j.request = *e.request;
      view.put_job(e.datasource, j);
      ds->seq += 1;
      view.put_datasource(e.datasource, *ds);
      view.index_request(e.datasource, ts, ds->seq);
      out.push_back(RequestEntry{e.datasource, "request", e.job, e.client, e.request, ts, ds->seq});
      out.push_back(notice_of(view, e.datasource, j.state, ts));
      return out;
    }

    case EventType::cancel: {
      if (!ds) return no_datasource(e.datasource);
      auto j = view.job(e.datasource, e.job);
      if (!j) return no_job(e.datasource, e.job);
      j->state.cancel_requested = true;
      j->state.updated = ts;
      view.put_job(e.datasource, *j);
      ds->seq += 1;
      view.put_datasource(e.datasource, *ds);
      view.index_request(e.datasource, ts, ds->seq);
      out.push_back(RequestEntry{e.datasource, "cancel", e.job, e.client, std::nullopt, ts, ds->seq});
      out.push_back(notice_of(view, e.datasource, j->state, ts));
      return out;
    }

    case EventType::status: {
      if (!ds) return no_datasource(e.datasource);
      auto j = view.job(e.datasource, e.job);
      if (!j) return no_job(e.datasource, e.job);
      if (!e.status) return err(Code::bad_request, "status event without a status");
      j->state.status = *e.status;
      j->state.response = e.response;
      j->state.error = e.error.value_or("");
      j->state.updated = ts;
      view.put_job(e.datasource, *j);
      out.push_back(notice_of(view, e.datasource, j->state, ts));
      return out;
    }
  }
  return err(Code::bad_request, "unknown event type");
}

}  // namespace ledgerq::domain
