// The dashboard's JSON API (api.hpp).
//
//   GET  /api/overview                     the broker's figures and every datasource
//   GET  /api/jobs?datasource&status&key&client&type&limit&continuation
//                                          one page of a scan
//   GET  /api/job?datasource&job           one job with its body (lookup)
//   GET  /api/history?datasource&job&continuation
//                                          the job's events, oldest first
//   POST /api/pause   {datasource, paused} pause or resume a datasource
//   POST /api/retry   {datasource, job?}   retry the datasource's failed jobs, or
//                                          that one job if it is failed
//   POST /api/cancel  {datasource, job}    cancel a job, as its client
//   POST /api/delete  {datasource, status, key?, client?, type?}
//                                          delete the jobs matching the filters
//   POST /api/delete  {datasource, job}    delete that one job, whatever its status
//
// Errors are {"error": text} with an HTTP status: the broker's 4xx as
// themselves, 3xx as 429, its 5xx as 502, no broker as 503.
#include "api.hpp"

#include <httplib.h>

#include <algorithm>
#include <charconv>

#include "codec/codec.hpp"
#include "codec/statuses.hpp"

namespace ledgerq::web {

using tools::json;

BrokerPool::BrokerPool(tools::BrokerAddress address, std::size_t max_idle)
    : address_(std::move(address)), max_idle_(max_idle) {}

tools::Answer BrokerPool::call(std::string_view command, const json& fields) {
  std::unique_ptr<tools::Connection> c;
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      c = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!c) c = std::make_unique<tools::Connection>(address_);
  tools::Answer a = c->call(command, fields);  // on a throw, `c` is dropped (see the class comment)
  std::lock_guard lock(mutex_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(c));
  return a;
}

bool valid_datasource(std::string_view s) {
  return !s.empty() && s.size() <= codec::Limits::max_datasource && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
  });
}

bool valid_id(std::string_view s) {
  return !s.empty() && s.size() <= codec::Limits::max_id && s.find('\0') == std::string_view::npos;
}

namespace {

constexpr unsigned kMaxPage = 200;       // jobs in one page of the list
constexpr std::size_t kMaxContinuation = 4096;  // PROTOCOL.md §5
// A history page reads at most 10,000 log entries (PROTOCOL.md §6.14): one
// answer walks at most this many pages, and stops past this many events or
// once the broker's replies, encoded, add up past this many bytes (a page
// may carry up to 1 MiB of bodies, and JSON shows them as hex: twenty such
// pages would make one GET hold 40 MiB); its continuation says where the
// page's "more" starts.
constexpr int kMaxHistoryPages = 20;
constexpr std::size_t kMaxHistoryEvents = 1000;
constexpr std::size_t kMaxHistoryBytes = 2 << 20;

/// A request the page got wrong, or a broker that refused: the HTTP status
/// and the text shown on the page.
struct HttpError {
  int status;
  std::string message;
};

void reply_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  // Replacing invalid UTF-8 (job ids are bytes) keeps dump() from throwing.
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

// The broker's answer, or the HttpError the page should see.
json ok_fields(const tools::Answer& a, std::string_view command) {
  if (a.code == 200) return a.fields;
  int status = 502;
  if (a.code >= 300 && a.code < 400) status = 429;
  else if (a.code >= 400 && a.code < 500) status = static_cast<int>(a.code);
  throw HttpError{status, "the broker answered " + std::string(command) + " with " + std::to_string(a.code) + ": " +
                              (a.message.empty() ? std::string("(no message)") : a.message)};
}

json call_ok(BrokerPool& broker, std::string_view command, const json& fields) {
  return ok_fields(broker.call(command, fields), command);
}

// --- input ------------------------------------------------------------------------

std::string param(const httplib::Request& req, const char* name) {
  return req.has_param(name) ? req.get_param_value(name) : std::string();
}

// What valid_datasource() accepts, for the page to show.
std::string name_rule() { return "1 to " + std::to_string(codec::Limits::max_datasource) + " of A-Z a-z 0-9 _ . -"; }

std::string require_datasource(const std::string& ds) {
  if (!valid_datasource(ds)) throw HttpError{400, "datasource: " + name_rule()};
  return ds;
}

std::string require_id(const std::string& id, const char* what) {
  if (!valid_id(id))
    throw HttpError{400, std::string(what) + ": 1 to " + std::to_string(codec::Limits::max_id) + " bytes without NUL"};
  return id;
}


// The optional filters of a scan or delete, from `get(name)`, into `f`.
template <class Get>
void filters_into(json& f, Get get) {
  if (std::string s = get("status"); !s.empty()) {
    if (!parse_status(s)) {
      std::string names;
      for (const JobStatus st : kJobStatuses) names += (names.empty() ? "" : ", ") + std::string(status_name(st));
      throw HttpError{400, "status: one of " + names};
    }
    f["status"] = s;
  }
  if (std::string s = get("key"); !s.empty()) f["key"] = require_id(s, "key");
  if (std::string s = get("client"); !s.empty()) f["client"] = require_id(s, "client");
  if (std::string s = get("type"); !s.empty()) {
    if (!valid_datasource(s)) throw HttpError{400, "type: " + name_rule()};
    f["type"] = s;
  }
}

// A POST's body: a JSON object. Requiring application/json also keeps other
// sites out: a cross-site form cannot send it, and a script of another
// origin needs a CORS preflight, which this server never grants.
json body_object(const httplib::Request& req) {
  const std::string type = req.get_header_value("Content-Type");
  if (type != "application/json" && !type.starts_with("application/json;"))
    throw HttpError{415, "actions take a JSON body (Content-Type: application/json)"};
  json j = json::parse(req.body, nullptr, false);
  if (!j.is_object()) throw HttpError{400, "the body is not a JSON object"};
  return j;
}

std::string string_field(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return {};
  if (!it->is_string()) throw HttpError{400, std::string(name) + ": expected a string"};
  return it->get<std::string>();
}

// Runs a handler, turning its failures into JSON errors: no request can
// crash the server or leave it without an answer.
template <class F>
httplib::Server::Handler guarded(F f) {
  return [f](const httplib::Request& req, httplib::Response& res) {
    try {
      f(req, res);
    } catch (const HttpError& e) {
      reply_json(res, e.status, json{{"error", e.message}});
    } catch (const tools::CallError& e) {
      const bool down = e.kind == tools::CallError::Kind::no_answer;
      reply_json(res, down ? 503 : 502, json{{"error", e.what()}, {"broker_down", down}});
    } catch (const std::exception& e) {
      reply_json(res, 500, json{{"error", std::string("internal error: ") + e.what()}});
    }
  };
}

// --- handlers ----------------------------------------------------------------------

// stats for the figures and rates, ds_list for the options (paused): one
// row per datasource.
json overview(BrokerPool& broker, bool read_only) {
  const json stats = call_ok(broker, "stats", json::object());
  const json list = call_ok(broker, "ds_list", json::object());
  json rows = json::array();
  for (const auto& d : list.value("datasources", json::array())) {
    json row = d;
    const json options = d.value("options", json::object());
    row["paused"] = options.is_object() && options.value("paused", false);
    for (const auto& st : stats.value("datasources", json::array()))
      if (st.value("datasource", "") == d.value("datasource", ""))
        for (const char* k : {"oldest_pending", "submitted_1m", "completed_1m"}) row[k] = st.value(k, json(0));
    rows.push_back(std::move(row));
  }
  json figures = stats;
  figures.erase("datasources");
  return json{{"web", {{"version", LEDGERQ_RELEASE}, {"read_only", read_only}, {"router", broker.address().router}}},
              {"broker", figures},
              {"datasources", rows}};
}

json jobs_page(BrokerPool& broker, const httplib::Request& req) {
  json f{{"datasource", require_datasource(param(req, "datasource"))}};
  filters_into(f, [&](const char* n) { return param(req, n); });
  unsigned limit = 50;
  if (const std::string l = param(req, "limit"); !l.empty()) {
    auto [end, ec] = std::from_chars(l.data(), l.data() + l.size(), limit);
    if (ec != std::errc() || end != l.data() + l.size() || limit == 0 || limit > kMaxPage)
      throw HttpError{400, "limit: 1 to " + std::to_string(kMaxPage)};
  }
  f["limit"] = limit;
  if (const std::string c = param(req, "continuation"); !c.empty()) {
    if (c.size() > kMaxContinuation) throw HttpError{400, "continuation: too long"};
    f["continuation"] = c;
  }
  return call_ok(broker, "scan", f);
}

// A job by id (with its body), or 404.
json find_job(BrokerPool& broker, const std::string& ds, const std::string& job, bool bodies) {
  json f{{"datasource", ds}, {"jobs", json::array({job})}};
  if (bodies) f["bodies"] = true;
  const json found = call_ok(broker, "lookup", f);
  const json jobs = found.value("jobs", json::array());
  if (jobs.empty()) throw HttpError{404, "no job '" + job + "' in datasource '" + ds + "'"};
  return jobs.front();
}

// The job's events from `continuation` on, oldest first, over as many
// history pages as the bounds above allow.
json job_history(BrokerPool& broker, const std::string& ds, const std::string& job, std::string continuation) {
  json events = json::array();
  std::size_t bytes = 0;
  for (int page = 0; page < kMaxHistoryPages; ++page) {
    json f{{"datasource", ds}, {"job", job}};
    if (!continuation.empty()) f["continuation"] = continuation;
    const tools::Answer a = broker.call("history", f);
    json r = ok_fields(a, "history");
    bytes += a.bytes;
    for (auto& e : r.value("events", json::array())) events.push_back(std::move(e));
    continuation = r.value("continuation", "");
    if (continuation.empty() || events.size() >= kMaxHistoryEvents || bytes > kMaxHistoryBytes) break;
  }
  return json{{"events", events}, {"continuation", continuation}};
}

// ds_configure replaces the whole option set: the current options (from
// ds_list) with `paused` changed. Two operators configuring the same
// datasource at once can still undo each other's change.
json set_paused(BrokerPool& broker, const std::string& ds, bool paused) {
  const json list = call_ok(broker, "ds_list", json::object());
  for (const auto& d : list.value("datasources", json::array())) {
    if (d.value("datasource", "") != ds) continue;
    json options = d.value("options", json::object());
    if (!options.is_object()) options = json::object();
    if (paused) options["paused"] = true;
    else options.erase("paused");  // left out at its default (§7.4)
    return call_ok(broker, "ds_configure", json{{"datasource", ds}, {"options", options}});
  }
  throw HttpError{404, "no datasource '" + ds + "'"};
}

}  // namespace

void add_api_routes(httplib::Server& server, BrokerPool& broker, bool read_only) {
  server.Get("/api/overview", guarded([&broker, read_only](const httplib::Request&, httplib::Response& res) {
    reply_json(res, 200, overview(broker, read_only));
  }));
  server.Get("/api/jobs", guarded([&broker](const httplib::Request& req, httplib::Response& res) {
    reply_json(res, 200, jobs_page(broker, req));
  }));
  server.Get("/api/job", guarded([&broker](const httplib::Request& req, httplib::Response& res) {
    const std::string ds = require_datasource(param(req, "datasource"));
    const std::string job = require_id(param(req, "job"), "job");
    reply_json(res, 200, json{{"job", find_job(broker, ds, job, true)}});
  }));
  server.Get("/api/history", guarded([&broker](const httplib::Request& req, httplib::Response& res) {
    const std::string ds = require_datasource(param(req, "datasource"));
    const std::string job = require_id(param(req, "job"), "job");
    const std::string c = param(req, "continuation");
    if (c.size() > kMaxContinuation) throw HttpError{400, "continuation: too long"};
    reply_json(res, 200, job_history(broker, ds, job, c));
  }));

  // Actions: POST with a JSON body, refused in read-only mode.
  const auto action = [&server, read_only](const char* path, auto f) {
    server.Post(path, guarded([read_only, f](const httplib::Request& req, httplib::Response& res) {
      if (read_only) throw HttpError{403, "this dashboard is read-only (--read-only)"};
      reply_json(res, 200, f(body_object(req)));
    }));
  };
  action("/api/pause", [&broker](const json& b) {
    const auto it = b.find("paused");
    if (it == b.end() || !it->is_boolean()) throw HttpError{400, "paused: expected true or false"};
    return set_paused(broker, require_datasource(string_field(b, "datasource")), it->get<bool>());
  });
  action("/api/retry", [&broker](const json& b) {
    json f{{"datasource", require_datasource(string_field(b, "datasource"))}};
    // By id (PROTOCOL.md §6.12), so the job page retries its job alone.
    if (std::string job = string_field(b, "job"); !job.empty()) f["jobs"] = json::array({require_id(job, "job")});
    return call_ok(broker, "retry", f);
  });
  action("/api/cancel", [&broker](const json& b) {
    // cancel is a client's command: the dashboard acts as the job's client
    // (an admin principal may, PROTOCOL.md §14.3).
    const std::string ds = require_datasource(string_field(b, "datasource"));
    const std::string job = require_id(string_field(b, "job"), "job");
    const json record = find_job(broker, ds, job, false);
    return call_ok(broker, "cancel", json{{"datasource", ds}, {"job", job}, {"client", record.value("client", "")}});
  });
  action("/api/delete", [&broker](const json& b) {
    json f{{"datasource", require_datasource(string_field(b, "datasource"))}};
    // One job by id (PROTOCOL.md §6.12): the job page's action, whatever
    // the job's status. No filters with it: the page names the job alone.
    if (std::string job = string_field(b, "job"); !job.empty()) {
      f["jobs"] = json::array({require_id(job, "job")});
      return call_ok(broker, "delete", f);
    }
    // Otherwise a bulk action by filters; a status keeps an empty filter
    // from deleting every job.
    filters_into(f, [&](const char* n) { return string_field(b, n); });
    if (!f.contains("status")) throw HttpError{400, "status: delete needs one, or a job"};
    return call_ok(broker, "delete", f);
  });
}

}  // namespace ledgerq::web
