// watch and follow: the two long-running commands. They use libclient, the
// public API, because it already does what a live feed needs and a tool
// should not redo: subscribe, then recover every notice the PUB socket
// dropped (`missed` for a client, `since` for a datasource), exactly once
// and in order. libclient calls back on its I/O thread; the callbacks only
// queue, and the main thread prints, so output is never interleaved.
#include <csignal>
#include <condition_variable>
#include <deque>
#include <iostream>
#include <ledgerq/ledgerq.hpp>
#include <mutex>
#include <set>

#include "commands.hpp"

namespace lq = ledgerq::client;

namespace ledgerq::cli {
namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int) { g_interrupted = true; }

/// Items handed from libclient's I/O thread to the main thread.
template <class T> class Queue {
 public:
  void push(T v) {
    {
      std::lock_guard lock(mu_);
      items_.push_back(std::move(v));
    }
    cv_.notify_one();
  }
  /// The next item, or nullopt at `deadline` (checks for Ctrl-C every 100 ms).
  std::optional<T> pop(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mu_);
    while (items_.empty()) {
      if (g_interrupted || std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      cv_.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(100)));
    }
    T v = std::move(items_.front());
    items_.pop_front();
    return v;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<T> items_;
};

// libclient's value types -> the codec's, so that the JSON printed has
// exactly the keys and shapes of every other command (tools::to_json).
std::string lifecycle_name(lq::Lifecycle l) {
  return l == lq::Lifecycle::create ? "create" : l == lq::Lifecycle::destroy ? "delete" : "";
}

StatusRecord convert(const lq::StatusRecord& r) {
  StatusRecord o;
  o.job = r.job;
  o.client = r.client;
  o.status = parse_status(lq::to_string(r.status)).value_or(JobStatus::submitted);
  if (r.response) o.response = Any{r.response->msgpack()};
  o.error = r.error;
  o.submitted = r.submitted;
  o.updated = r.updated;
  o.cancel_requested = r.cancel_requested;
  o.priority = r.priority;
  o.run_after = r.run_after;
  o.attempts = r.attempts;
  o.attempts_made = r.attempts_made;
  o.type = r.type;
  o.key = r.key;
  o.lifecycle = lifecycle_name(r.lifecycle);
  o.custom_status = r.custom_status;
  o.worker = r.worker;
  o.lease_until = r.lease_until;
  o.token = r.token;
  return o;
}

json notice_json(const lq::StatusNotice& n) {
  return tools::to_json(StatusNotice{n.datasource, convert(n.data), n.timestamp, n.seq});
}

json entry_json(const lq::RequestEntry& e) {
  RequestEntry o;
  o.datasource = e.datasource;
  o.type = e.type == lq::EntryType::request ? "request" : e.type == lq::EntryType::cancel ? "cancel" : "other";
  o.job = e.job;
  o.client = e.client;
  if (e.request) o.request = Any{e.request->msgpack()};
  if (e.options) {
    JobOptions op;
    op.priority = e.options->priority;
    op.run_after = e.options->run_after;
    op.attempts = e.options->attempts;
    op.type = e.options->type;
    op.key = e.options->key;
    op.lifecycle = lifecycle_name(e.options->lifecycle);
    op.custom_status = e.options->custom_status;
    o.options = op;
  }
  o.timestamp = e.timestamp;
  o.seq = e.seq;
  return tools::to_json(o);
}

// Live output: one line per item, flushed, whatever the terminal.
void emit(const json& j, const std::string& text, const Settings& s) {
  if (s.format == Format::as_json) std::cout << json_text(j) << std::endl;
  else std::cout << text << std::endl;
}

int from_client_error(const lq::Error& e, std::string_view command) {
  const auto code = static_cast<unsigned>(e.code());
  const int exit = code == static_cast<unsigned>(lq::Code::timeout) ? exit_code::no_broker
                   : code < 1000                                    ? exit_for_code(code)
                                                                    : exit_code::failure;
  throw Failure(exit, std::string(command) + ": " + e.what());
}

std::chrono::steady_clock::time_point deadline_of(const Settings& s) {
  return s.timeout ? std::chrono::steady_clock::now() + *s.timeout : std::chrono::steady_clock::time_point::max();
}

std::chrono::milliseconds request_timeout(const Settings& s) {
  return std::min(s.reply_timeout(), std::chrono::milliseconds(10'000));
}

int timed_out(const Settings& s, std::string_view what) {
  if (g_interrupted) return 130;
  throw Failure(exit_code::no_broker,
                std::string(what) + ": timed out after " + std::to_string(s.timeout->count()) + " ms");
}

}  // namespace

int run_watch(const Settings& s, const WatchArgs& a) {
  std::signal(SIGINT, on_sigint);
  std::set<std::string> until(a.until.begin(), a.until.end());
  if (until.empty()) until.insert("terminal");
  for (const auto& u : until)
    if (u != "terminal" && !parse_status(u)) usage_error("watch: --until: '" + u + "' is not a status or 'terminal'");
  if (!a.job.empty() && a.datasource.empty()) usage_error("watch: a job needs its datasource: watch DATASOURCE JOB");
  if (!a.job.empty() && a.from) usage_error("watch: --from is for watching a whole client, not one job");

  Queue<lq::StatusNotice> q;
  lq::ClientOptions o;
  o.router = s.router;
  o.status_pub = s.status_pub;
  o.timeout = request_timeout(s);
  o.credentials = s.credentials;
  o.start_after = a.from;
  o.on_notice = [&q](const lq::StatusNotice& n) { q.push(n); };
  const auto deadline = deadline_of(s);
  try {
    lq::Client c(s.client, o);
    (void)c.ping();  // no broker: fail now, with exit 9

    if (a.job.empty()) {  // every notice of the client (of one datasource)
      std::uint64_t seen = 0;
      while (auto n = q.pop(deadline)) {
        if (!a.datasource.empty() && n->datasource != a.datasource) continue;
        const auto j = notice_json(*n);
        emit(j, "seq " + std::to_string(n->seq) + "  " + n->datasource + "  " + record_line(j["data"]), s);
        if (a.count && ++seen >= a.count) return exit_code::ok;
      }
      return a.count ? timed_out(s, "watch") : (g_interrupted ? 130 : exit_code::ok);
    }

    // One job: its current record, then each change, until --until.
    auto done = [&](const lq::StatusRecord& r) {
      return until.contains(std::string(lq::to_string(r.status))) || (until.contains("terminal") && lq::is_terminal(r.status));
    };
    auto result = [&](const lq::StatusRecord& r) {
      const bool named = until.contains(std::string(lq::to_string(r.status)));
      return lq::is_terminal(r.status) && r.status != lq::JobStatus::complete && !named ? exit_code::job_not_complete
                                                                                        : exit_code::ok;
    };
    (void)c.sync(request_timeout(s));  // so that no change after the status read is missed
    auto rec = c.status(a.datasource, a.job);
    auto show = [&](const lq::StatusRecord& r) {
      const auto j = tools::to_json(convert(r));
      emit(j, record_line(j), s);
    };
    show(rec);
    if (done(rec)) return result(rec);
    Micros last = rec.updated;
    while (auto n = q.pop(deadline)) {
      if (n->datasource != a.datasource || n->data.job != a.job || n->data.updated <= last) continue;
      last = n->data.updated;
      show(n->data);
      if (done(n->data)) return result(n->data);
    }
    return timed_out(s, "watch");
  } catch (const lq::Error& e) {
    return from_client_error(e, "watch");
  }
}

int run_follow(const Settings& s, const FollowArgs& a) {
  std::signal(SIGINT, on_sigint);
  Queue<lq::RequestEntry> q;
  lq::DriverOptions o;
  o.router = s.router;
  o.requests_pub = s.requests_pub;
  o.timeout = request_timeout(s);
  o.credentials = s.credentials;
  const auto deadline = deadline_of(s);
  try {
    lq::Driver d(o);
    const Micros from = a.from ? *a.from : d.ping().now;  // default: new entries only
    d.follow(a.datasource, from, [&q](const lq::RequestEntry& e) { q.push(e); });
    std::uint64_t seen = 0;
    while (auto e = q.pop(deadline)) {
      const auto j = entry_json(*e);
      std::string text = "seq " + std::to_string(e->seq) + "  " + j.value("type", "") + "  " + e->job +
                         "  client=" + e->client;
      if (j.contains("request")) text += "  request=" + json_text(j["request"]);
      emit(j, text, s);
      if (a.count && ++seen >= a.count) return exit_code::ok;
    }
    return a.count ? timed_out(s, "follow") : (g_interrupted ? 130 : exit_code::ok);
  } catch (const lq::Error& e) {
    return from_client_error(e, "follow");
  }
}

}  // namespace ledgerq::cli
