// The commands of a worker (PROTOCOL.md §6.8-§6.10, §10):
//
//   dequeue  one dequeue, printed: each job with the token an ack needs.
//   ack      one ack, its flags named after the AckItem's fields (§7.6).
//   work     a loop: lease jobs, run a command per job with its body on
//            stdin, heartbeat while it runs, ack by its exit status.
//
// dequeue and ack take the request/reply path of every other command (JSON
// fields with the wire's keys). work uses libclient's Worker, which already
// keeps each lease's fencing token, repeats a dequeue that timed out with
// the same dequeue_id (§10.4) and checkpoints and acks under the token.
//
// work, in one thread (the Worker's I/O thread aside): poll the commands'
// pipes and a self-pipe that signals and a finished dequeue write to; reap
// the commands that ended and ack their jobs; heartbeat the jobs whose time
// has come; start a dequeue for the free slots. A dequeue runs on a thread
// of its own (it may wait for jobs) so that pipes and heartbeats are served
// meanwhile.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <future>
#include <iomanip>
#include <iostream>
#include <ledgerq/ledgerq.hpp>
#include <memory>
#include <system_error>
#include <variant>

#include "child.hpp"
#include "codec/codec.hpp"
#include "commands.hpp"

namespace lq = ledgerq::client;

namespace ledgerq::cli {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A dequeue of `work` waits this long for jobs before it is sent again: the
// bound on how long a stop waits for a dequeue in flight.
constexpr milliseconds kDequeueWait{2000};
// After a failed dequeue (no broker, rate limited), before the next one.
constexpr milliseconds kRetryPause{1000};
constexpr milliseconds kDefaultLease{30000};

std::string default_worker_name(const char* tool) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::strcpy(host, "localhost");
  return std::string(tool) + ":" + host + ":" + std::to_string(::getpid());
}

// --- dequeue, ack ---------------------------------------------------------------

struct DequeueArgs {
  std::string datasource, worker, lease, wait;
  std::vector<std::string> types;
  std::uint32_t count = 1;
  CLI::Option *types_o{}, *lease_o{}, *wait_o{};
};

int run_dequeue(const Settings& s, const DequeueArgs& a) {
  json f{{"datasource", a.datasource}, {"worker", a.worker.empty() ? default_worker_name("ledgerq") : a.worker},
         {"limit", a.count}};
  if (given(a.types_o)) f["types"] = a.types;
  if (given(a.lease_o)) f["lease_ms"] = duration_ms(a.lease, "--lease");
  const std::uint64_t wait = given(a.wait_o) ? duration_ms(a.wait, "--wait") : 0;
  if (wait > 0) f["wait_ms"] = wait;
  // A fresh id, sent again as is if the first send gets no answer: a
  // broker that got the first one answers the repeat with its leases
  // instead of leasing more jobs that nobody would hold (§10.4, Repeats).
  f["dequeue_id"] = "cli:" + std::to_string(now_micros()) + ":" + std::to_string(::getpid());
  Settings patient = s;  // the broker may hold the request for its whole wait
  patient.timeout = s.reply_timeout() + milliseconds(wait);
  Connection c(patient);
  Answer answer;
  try {
    answer = c.call("dequeue", f);
  } catch (const Failure& e) {
    if (e.exit != exit_code::no_broker) throw;
    answer = c.call("dequeue", f);
  }
  print(require_ok(answer, "dequeue").fields, s);
  return exit_code::ok;
}

struct AckArgs {
  std::string datasource, job, response, error, retry_delay, custom_status;
  std::uint64_t token = 0;
  bool success = false, failure = false, cancelled = false;
  CLI::Option *response_o{}, *error_o{}, *retry_o{}, *custom_o{};
};

int run_ack(const Settings& s, const AckArgs& a) {
  if (a.success + a.failure + a.cancelled != 1) usage_error("ack: give one outcome: --success, --failure or --cancelled");
  json item{{"job", a.job}, {"token", a.token}};
  item["outcome"] = a.success ? "success" : a.failure ? "failure" : "cancelled";
  if (given(a.response_o)) {
    if (!a.success) usage_error("ack: --response goes with --success");
    item["response"] = read_json_arg(a.response, "--response");
  }
  if (given(a.error_o)) {
    if (a.success) usage_error("ack: --error goes with --failure or --cancelled");
    item["error"] = a.error;
  }
  if (given(a.retry_o)) {
    if (!a.failure) usage_error("ack: --retry-delay goes with --failure");
    item["retry_delay_ms"] = duration_ms(a.retry_delay, "--retry-delay");
  }
  if (given(a.custom_o)) item["custom_status"] = a.custom_status;
  return itemized(s, "ack", json{{"datasource", a.datasource}, {"acks", json::array({item})}}, "results");
}

// --- work: signals ------------------------------------------------------------------

// SIGINT/SIGTERM count (the first stops leasing, the second kills the
// commands); every signal, SIGCHLD included, and a finished dequeue write a
// byte to the self-pipe so that poll wakes at once.
std::atomic<int> g_stops{0};
std::atomic<int> g_wake_fd{-1};

// Async-signal-safe (a lock-free atomic and write).
void wake() {
  const int saved = errno;
  if (const int fd = g_wake_fd.load(); fd >= 0) {
    const char c = 0;
    (void)!::write(fd, &c, 1);
  }
  errno = saved;
}

extern "C" void on_signal(int sig) {
  if (sig != SIGCHLD) g_stops.fetch_add(1);
  wake();
}

class Signals {
 public:
  Signals() {
    if (::pipe2(fds_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
    g_stops = 0;
    g_wake_fd = fds_[1];
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int sig : {SIGINT, SIGTERM, SIGCHLD}) ::sigaction(sig, &sa, nullptr);
    ::signal(SIGPIPE, SIG_IGN);  // a command that does not read its stdin
  }
  ~Signals() {
    for (int sig : {SIGINT, SIGTERM, SIGCHLD}) ::signal(sig, SIG_DFL);
    g_wake_fd = -1;
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  Signals(const Signals&) = delete;
  Signals& operator=(const Signals&) = delete;
  int fd() const { return fds_[0]; }
  void drain() const {
    char buf[256];
    while (::read(fds_[0], buf, sizeof buf) > 0) {
    }
  }

 private:
  int fds_[2] = {-1, -1};
};

// --- work: one job ------------------------------------------------------------------

struct WorkArgs {
  std::string datasource, worker, lease;
  std::vector<std::string> types, command;
  std::uint32_t concurrency = 1;
  std::uint64_t max_jobs = 0;
  CLI::Option *types_o{}, *lease_o{};
};

struct Job {
  lq::LeasedJob leased;
  std::unique_ptr<Child> child;
  Clock::time_point started, next_heartbeat;
  bool lease_lost = false;
  /// When the command was sent SIGTERM for a lost lease; a lease later it
  /// gets SIGKILL, so one that ignores TERM does not run for ever.
  Clock::time_point terminated;
  bool kill_sent = false;
};

// Trailing newlines dropped, as $(...) does; other spaces are the command's.
std::string trim_newlines(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

// The body of a job as the command reads it: JSON, as the CLI prints bodies
// (a str that is not UTF-8 with U+FFFD for its bad bytes). Throws
// std::exception for a body JSON cannot hold (an ext, a map with non-string
// keys).
std::string body_text(const lq::Payload& p) { return json_text(tools::any_to_json(Any{p.msgpack()})) + "\n"; }

// The environment of a job's command: this process's, and the job's.
std::vector<std::string> job_env(const lq::LeasedJob& j, const std::string& ds, const std::string& worker) {
  const std::pair<const char*, std::string> vars[] = {
      {"LEDGERQ_DATASOURCE", ds},
      {"LEDGERQ_JOB", j.job},
      {"LEDGERQ_TOKEN", std::to_string(j.token)},
      {"LEDGERQ_ATTEMPT", std::to_string(j.attempts_made)},
      {"LEDGERQ_ATTEMPTS", std::to_string(j.attempts)},
      {"LEDGERQ_PRIORITY", std::to_string(j.priority)},
      {"LEDGERQ_JOB_TYPE", j.type},
      {"LEDGERQ_JOB_KEY", j.key},
      {"LEDGERQ_JOB_CLIENT", j.client},
      {"LEDGERQ_WORKER", worker},
  };
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string_view kv = *e;
    bool ours = false;
    for (const auto& [k, v] : vars) ours = ours || (kv.starts_with(k) && kv.size() > std::strlen(k) && kv[std::strlen(k)] == '=');
    if (!ours) env.emplace_back(kv);
  }
  for (const auto& [k, v] : vars) env.push_back(std::string(k) + "=" + v);
  return env;
}

// What a command that exited 0 answers: its stdout as JSON if it parses,
// else as a string (trailing newlines dropped, as $(...) does); nothing
// when it printed nothing. An error text instead when that is no body.
std::variant<lq::Payload, std::string> response_of(const Child& c) {
  if (c.overflowed())
    return "the command's stdout is over " + std::to_string(codec::Limits::max_body) +
           " bytes, the limit of a response body";
  const std::string text = trim_newlines(c.out());
  if (text.empty()) return lq::Payload();
  try {
    const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded()) {
      auto any = tools::any_from_json(j);
      if (!any) return "the command's stdout is JSON but no response body: " + any.error().message;
      return lq::Payload::from_msgpack(any->msgpack);
    }
    return lq::Payload::from_text(text);
  } catch (const lq::Error& e) {
    return std::string("the command's stdout is no response body: ") + e.what();
  }
}

// The error of an ack failure: how the command ended, and the end of its stderr.
std::string failure_text(const Child& c) {
  const int st = c.wait_status();
  std::string how;
  if (WIFEXITED(st)) how = "exit status " + std::to_string(WEXITSTATUS(st));
  else if (WIFSIGNALED(st)) how = "killed by signal " + std::to_string(WTERMSIG(st));
  else how = "ended with wait status " + std::to_string(st);
  const std::string tail = trim_newlines(c.err());
  if (tail.empty()) return how + " (nothing on stderr)";
  std::string text = how + ": ";
  const std::size_t room = codec::Limits::max_error - text.size();
  return text + (tail.size() > room ? tail.substr(tail.size() - room) : tail);
}

// --- work: the loop -------------------------------------------------------------------

class WorkLoop {
 public:
  WorkLoop(const Settings& s, const WorkArgs& a)
      : s_(s), a_(a), lease_(given(a.lease_o) ? milliseconds(duration_ms(a.lease, "--lease")) : kDefaultLease),
        worker_(a.datasource, options()) {
    if (lease_.count() == 0) usage_error("--lease: must be more than 0");
  }

  int run() {
    for (;;) {
      const int stops = g_stops.load();
      if (stops >= 1 && leasing_) {
        leasing_ = false;
        std::cerr << "ledgerq work: stopping: " << jobs_.size()
                  << " running command(s) finish and are acked (a second signal kills them)\n";
      }
      if (stops >= 2 && !killed_) {
        killed_ = true;
        for (auto& j : jobs_) j->child->signal(SIGKILL);
      }
      finish_ended();
      take_dequeued();
      if (a_.max_jobs && leased_ >= a_.max_jobs) leasing_ = false;
      if (!leasing_ && !dequeue_.valid() && jobs_.empty()) break;
      start_dequeue();
      heartbeat_due();
      wait_for_something();
    }
    return killed_ ? 130 : exit_;
  }

 private:
  lq::WorkerOptions options() const {
    lq::WorkerOptions o;
    o.router = s_.router;
    o.requests_pub = s_.requests_pub;
    o.timeout = s_.reply_timeout();
    o.credentials = s_.credentials;
    o.name = a_.worker.empty() ? default_worker_name("ledgerq-work") : a_.worker;
    if (given(a_.types_o)) o.types = a_.types;
    o.lease = lease_;
    // A cancel request does not stop a command (the ack's rules apply,
    // §10.6); no need for the request topic, which carries every body.
    o.watch_cancels = false;
    o.cancel_check_interval = milliseconds::zero();
    return o;
  }

  void start_dequeue() {
    if (!leasing_ || dequeue_.valid() || jobs_.size() >= a_.concurrency || Clock::now() < retry_at_) return;
    std::uint64_t limit = a_.concurrency - jobs_.size();
    if (a_.max_jobs) limit = std::min(limit, a_.max_jobs - leased_);
    dequeue_ = std::async(std::launch::async, [this, limit] {
      struct Waker {
        ~Waker() { wake(); }
      } waker;
      return worker_.dequeue(static_cast<std::uint32_t>(limit), kDequeueWait);
    });
  }

  void take_dequeued() {
    if (!dequeue_.valid() || dequeue_.wait_for(milliseconds::zero()) != std::future_status::ready) return;
    std::vector<lq::LeasedJob> jobs;
    try {
      jobs = dequeue_.get();
    } catch (const lq::Error& e) {
      const auto c = e.code();
      if (c == lq::Code::closed) {
        connection_gone("dequeue", e);
      } else if (c == lq::Code::not_found || c == lq::Code::forbidden || c == lq::Code::bad_request) {
        std::cerr << "ledgerq work: dequeue: " << e.what() << "\n";
        exit_ = exit_for_code(static_cast<unsigned>(c));
        leasing_ = false;
      } else {  // no broker (yet), rate limited, a broker error: try again
        std::cerr << "ledgerq work: dequeue: " << e.what() << " (trying again)\n";
        retry_at_ = Clock::now() + kRetryPause;
      }
      return;
    }
    for (auto& j : jobs) {
      ++leased_;
      if (leasing_) start(std::move(j));
      else release(j);
    }
  }

  // A job leased after a stop was asked for goes back to the queue at once
  // rather than waiting for its lease to run out.
  void release(const lq::LeasedJob& j) {
    try {
      lq::CheckpointOptions o;
      o.to_pending = true;
      (void)worker_.checkpoint(j.job, o);
    } catch (const lq::Error& e) {
      std::cerr << "ledgerq work: releasing job " << j.job << ": " << e.what() << "\n";
      if (e.code() == lq::Code::closed) connection_gone("release", e);
    }
  }

  void start(lq::LeasedJob j) {
    auto job = std::make_unique<Job>();
    job->started = Clock::now();
    // The first heartbeat comes within a third of the lease granted, which
    // may be shorter than asked (a waiting dequeue's is capped, §10.4).
    const auto granted = milliseconds(
        static_cast<std::int64_t>(j.lease_until > now_micros() ? (j.lease_until - now_micros()) / 1000 : 0));
    job->next_heartbeat = job->started + std::min(lease_, granted) / 3;
    std::string input;
    try {
      input = body_text(j.request);
    } catch (const std::exception& e) {
      // This job's body only: it fails (retried while attempts remain, as
      // another worker may read it), and the other jobs run.
      const std::string why = std::string("body has no JSON form: ") + e.what();
      std::cerr << "ledgerq work: job " << j.job << ": " << why << "\n";
      ack(j, false, lq::Payload(), why, "failure");
      return;
    }
    try {
      job->child = std::make_unique<Child>(a_.command, job_env(j, a_.datasource, worker_.name()), std::move(input),
                                           codec::Limits::max_body, codec::Limits::max_error);
    } catch (const std::system_error& e) {
      // Every job would fail alike: this one is failed, and no more are taken.
      std::cerr << "ledgerq work: " << e.what() << "\n";
      ack(j, false, lq::Payload(), std::string("ledgerq work: ") + e.what(), "failure");
      exit_ = exit_code::failure;
      leasing_ = false;
      return;
    }
    job->leased = std::move(j);
    jobs_.push_back(std::move(job));
  }

  // When to renew a lease that ends at `lease_until` (the broker's clock,
  // µs): a third of the lease from now, and no later than a third of the
  // lease before the deadline, which a slow reply has brought nearer.
  Clock::time_point heartbeat_after(std::uint64_t lease_until) const {
    const auto now = Clock::now();
    if (lease_until == 0) return now + lease_ / 3;  // no deadline told
    const std::uint64_t wall = now_micros();
    const milliseconds left(static_cast<std::int64_t>(lease_until > wall ? (lease_until - wall) / 1000 : 0));
    return now + std::max(milliseconds::zero(), std::min(lease_ / 3, left - lease_ / 3));
  }

  void heartbeat_due() {
    const auto now = Clock::now();
    for (auto& j : jobs_) {
      if (j->lease_lost && !j->kill_sent && now >= j->terminated + lease_) {
        std::cerr << "ledgerq work: job " << j->leased.job << ": its command outlived SIGTERM by a lease; SIGKILL\n";
        j->kill_sent = true;
        j->child->signal(SIGKILL);
      }
      if (j->lease_lost || now < j->next_heartbeat) continue;
      try {
        j->next_heartbeat = heartbeat_after(worker_.heartbeat(j->leased.job, lease_).lease_until);
      } catch (const lq::Error& e) {
        if (e.code() == lq::Code::closed) {
          connection_gone("heartbeat of job " + j->leased.job, e);
        } else if (e.code() == lq::Code::conflict || e.code() == lq::Code::not_found) {
          // Another worker may hold the job now: this run's result would
          // be refused, so the command is stopped.
          std::cerr << "ledgerq work: job " << j->leased.job << ": lease lost (" << e.what()
                    << "); stopping its command\n";
          j->lease_lost = true;
          j->terminated = Clock::now();
          j->child->signal(SIGTERM);
        } else {
          std::cerr << "ledgerq work: heartbeat of job " << j->leased.job << ": " << e.what() << " (trying again)\n";
          j->next_heartbeat = Clock::now() + std::min(lease_ / 3, kRetryPause);
        }
      }
    }
  }

  void finish_ended() {
    for (auto it = jobs_.begin(); it != jobs_.end();) {
      Job& j = **it;
      if (!j.child->reap()) {
        ++it;
        continue;
      }
      const int st = j.child->wait_status();
      if (killed_ || j.lease_lost) {
        report(j, killed_ ? "killed" : "lease_lost", st, "");  // the job comes back by lease expiry
      } else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        auto r = response_of(*j.child);
        if (auto* p = std::get_if<lq::Payload>(&r)) ack_response(j, st, *p);
        else report(j, "failure", st, ack(j.leased, false, lq::Payload(), std::get<std::string>(r), "failure"));
      } else {
        report(j, "failure", st, ack(j.leased, false, lq::Payload(), failure_text(*j.child), "failure"));
      }
      it = jobs_.erase(it);
    }
  }

  // Acks a command's response. One the broker will never take (too large
  // for it, or refused as malformed) fails the job with why: left leased,
  // with no more heartbeats, it would come back when its lease runs out and
  // the command would run again for nothing.
  void ack_response(const Job& j, int st, const lq::Payload& response) {
    try {
      worker_.ack_success(j.leased.job, response);
      report(j, "success", st, "");
    } catch (const lq::Error& e) {
      std::cerr << "ledgerq work: ack success of job " << j.leased.job << ": " << e.what() << "\n";
      if (e.code() != lq::Code::too_large && e.code() != lq::Code::bad_request) {
        report(j, "success", st, e.what());
        if (e.code() == lq::Code::closed) connection_gone("ack", e);
        return;
      }
      const std::string why = std::string("the broker refused the command's response: ") + e.what();
      report(j, "failure", st, ack(j.leased, false, lq::Payload(), why.substr(0, codec::Limits::max_error), "failure"));
    }
  }

  // Acks; returns "" or why the broker refused it.
  std::string ack(const lq::LeasedJob& j, bool success, const lq::Payload& response, const std::string& error,
                  const char* what) {
    try {
      if (success) worker_.ack_success(j.job, response);
      else worker_.ack_failure(j.job, error);
      return "";
    } catch (const lq::Error& e) {
      std::cerr << "ledgerq work: ack " << what << " of job " << j.job << ": " << e.what() << "\n";
      if (e.code() == lq::Code::closed) connection_gone("ack", e);
      return e.what();
    }
  }

  // A Worker whose connection is closed (Code::closed: its I/O thread has
  // ended) fails every later call at once: nothing more can be leased,
  // renewed or acked. Retrying, as after a broker that does not answer,
  // would go on for ever and `work` would never end. So no more jobs are
  // leased and the running commands are stopped as if their leases were
  // lost (their results could not be acked; the jobs come back to the
  // queue when the leases run out), and `work` exits with a failure.
  void connection_gone(const std::string& during, const lq::Error& e) {
    if (gone_) return;
    gone_ = true;
    leasing_ = false;
    exit_ = exit_code::failure;
    std::cerr << "ledgerq work: " << during << ": " << e.what()
              << ": no more jobs are leased and running commands are stopped; jobs not acked come back when "
                 "their leases run out\n";
    for (auto& j : jobs_) {
      if (j->lease_lost) continue;
      j->lease_lost = true;
      j->terminated = Clock::now();
      j->child->signal(SIGTERM);
    }
  }

  // One line per job run, on stdout (JSON Lines, or text on a terminal).
  void report(const Job& j, const std::string& outcome, int st, const std::string& refused) {
    json line{{"job", j.leased.job}, {"attempt", j.leased.attempts_made}, {"outcome", outcome}};
    if (WIFEXITED(st)) line["exit_status"] = WEXITSTATUS(st);
    else if (WIFSIGNALED(st)) line["signal"] = WTERMSIG(st);
    line["seconds"] = std::chrono::duration<double>(Clock::now() - j.started).count();
    if (!refused.empty()) line["ack_refused"] = refused;
    if (s_.format == Format::as_json) {
      std::cout << json_text(line) << std::endl;
      return;
    }
    std::cout << j.leased.job << "  attempt " << j.leased.attempts_made << "  " << outcome;
    if (line.contains("exit_status")) std::cout << "  exit " << line["exit_status"];
    if (line.contains("signal")) std::cout << "  signal " << line["signal"];
    std::cout << "  " << std::fixed << std::setprecision(2) << line["seconds"].get<double>() << "s";
    if (!refused.empty()) std::cout << "  ack refused: " << refused;
    std::cout << std::endl;
  }

  void wait_for_something() {
    std::vector<pollfd> fds{{signals_.fd(), POLLIN, 0}};
    for (const auto& j : jobs_) j->child->poll_fds(fds);
    // Wake for the next heartbeat or retry; and at least every second, for
    // a child whose exit came while a grandchild keeps its pipes open.
    auto until = Clock::now() + milliseconds(1000);
    for (const auto& j : jobs_)
      if (!j->lease_lost) until = std::min(until, j->next_heartbeat);
      else if (!j->kill_sent) until = std::min(until, j->terminated + lease_);
    if (leasing_ && !dequeue_.valid() && retry_at_ > Clock::now()) until = std::min(until, retry_at_);
    const auto ms = std::chrono::duration_cast<milliseconds>(until - Clock::now()).count();
    if (::poll(fds.data(), fds.size(), static_cast<int>(std::max<std::int64_t>(0, ms) + 1)) < 0 && errno != EINTR)
      throw std::system_error(errno, std::generic_category(), "poll");
    signals_.drain();
    for (auto& j : jobs_) j->child->service();
  }

  const Settings& s_;
  const WorkArgs& a_;
  milliseconds lease_;
  Signals signals_;
  lq::Worker worker_;
  std::vector<std::unique_ptr<Job>> jobs_;
  std::future<std::vector<lq::LeasedJob>> dequeue_;
  std::uint64_t leased_ = 0;
  bool leasing_ = true, killed_ = false, gone_ = false;
  int exit_ = exit_code::ok;
  Clock::time_point retry_at_{};
};

int run_work(const Settings& s, const WorkArgs& a) {
  if (a.command.empty()) usage_error("work: give the command to run after --, e.g. -- sh -c 'cat > out'");
  try {
    WorkLoop loop(s, a);
    return loop.run();
  } catch (const lq::Error& e) {
    throw Failure(e.code() == lq::Code::bad_request ? exit_code::usage : exit_code::failure,
                  std::string("work: ") + e.what());
  }
}

}  // namespace

void add_worker_commands(CLI::App& app, const Settings& s, Actions& actions) {
  // The flags' storage lives as long as the actions that read it.
  auto dq = std::make_shared<DequeueArgs>();
  auto ak = std::make_shared<AckArgs>();
  auto wk = std::make_shared<WorkArgs>();

  auto* dequeue = add_command(&app, "dequeue", "lease jobs and print them, each with the token its ack needs",
                              "  ledgerq dequeue images --count 10 --lease 5m --wait 30s\n"
                              "  ledgerq dequeue images --json | jq -r '.jobs[] | \"\\(.job) \\(.token)\"'");
  dequeue->add_option("datasource", dq->datasource, "the datasource")->required();
  dq->types_o = dequeue->add_option("--types", dq->types, "only jobs of these types (comma-separated)")->delimiter(',');
  dequeue->add_option("--count", dq->count, "jobs to lease, 1..1000 (default 1)")->check(CLI::Range(1, 1000));
  dq->lease_o = dequeue->add_option("--lease", dq->lease, "lease length (e.g. 5m); default the datasource's");
  dq->wait_o = dequeue->add_option("--wait", dq->wait, "when no job is eligible, wait this long for one (at most 10m)");
  dequeue->add_option("--worker", dq->worker, "the worker's name, recorded in each job (default ledgerq:HOST:PID)");
  actions.emplace_back(dequeue, [&s, dq] { return run_dequeue(s, *dq); });

  auto* ack = add_command(&app, "ack", "report the outcome of a leased job (exit 4 when its token is stale)",
                          "  ledgerq ack images job-1 --token 3 --success --response '{\"url\":\"s3://x\"}'\n"
                          "  ledgerq ack images job-2 --token 1 --failure --error 'no such image' --retry-delay 1m");
  ack->add_option("datasource", ak->datasource, "the datasource")->required();
  ack->add_option("job", ak->job, "the job id")->required();
  ack->add_option("--token", ak->token, "the lease's fencing token, as dequeue printed it")->required();
  auto* success = ack->add_flag("--success", ak->success, "the job is complete");
  auto* failure = ack->add_flag("--failure", ak->failure, "the job failed: retried while attempts remain");
  ack->add_flag("--cancelled", ak->cancelled, "the job is cancelled (the answer to a cancel request)")
      ->excludes(success)->excludes(failure);
  success->excludes(failure);
  ak->response_o = ack->add_option("--response", ak->response, "with --success: the result body, JSON text, @file or -");
  ak->error_o = ack->add_option("--error", ak->error, "with --failure or --cancelled: why (at most 4096 bytes)");
  ak->retry_o = ack->add_option("--retry-delay", ak->retry_delay,
                               "with --failure: retry after this long (e.g. 30s) instead of the backoff");
  ak->custom_o = ack->add_option("--custom-status", ak->custom_status, "appended to the job's custom status");
  actions.emplace_back(ack, [&s, ak] { return run_ack(s, *ak); });

  auto* work = add_command(&app, "work",
                           "run a command per leased job: body on stdin, stdout the response, exit status the outcome",
                           "  ledgerq work images --concurrency 4 -- ./resize.sh\n"
                           "  ledgerq work images --types thumb --max-jobs 100 -- sh -c 'jq .w | ./thumb'");
  work->add_option("datasource", wk->datasource, "the datasource")->required();
  wk->types_o = work->add_option("--types", wk->types, "only jobs of these types (comma-separated)")->delimiter(',');
  work->add_option("--concurrency", wk->concurrency, "commands running at once (default 1)")->check(CLI::Range(1, 1000));
  wk->lease_o = work->add_option("--lease", wk->lease, "lease of each job, renewed every third of it while its command "
                                                     "runs (default 30s)");
  work->add_option("--worker", wk->worker, "the worker's name, recorded in each job (default ledgerq-work:HOST:PID)");
  work->add_option("--max-jobs", wk->max_jobs, "stop after this many jobs (default: run until SIGINT/SIGTERM)")
      ->check(CLI::PositiveNumber);
  work->add_option("command", wk->command, "the command and its arguments, after --; run without a shell")->required();
  actions.emplace_back(work, [&s, wk] { return run_work(s, *wk); });
}

}  // namespace ledgerq::cli
