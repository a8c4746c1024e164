#include "checks.hpp"

#include <algorithm>
#include <fstream>
#include <ledgerq/ledgerq.hpp>
#include <sstream>
#include <thread>

#include "soak.hpp"

namespace ledgerq::soak {

namespace {

namespace lq = ledgerq::client;

constexpr std::size_t kExamples = 5;  ///< offending jobs named per failure kind

void example(std::vector<std::string>& out, const std::string& text) {
  if (out.size() < kExamples) out.push_back(text);
}

// One log line into `logs`; false when it does not parse.
bool fold_line(const std::string& line, const std::string& file, WorkerLogs& logs) {
  std::istringstream s(line);
  std::string kind, job;
  unsigned long long token = 0;
  if (!(s >> kind >> job >> token)) return false;
  if (kind == "LEASE") {
    auto& t = logs.jobs[job];
    auto [it, fresh] = t.leased_by.emplace(token, file);
    // The same worker may log one lease twice (a repeated dequeue is
    // answered with the first one's leases); another worker never may.
    if (!fresh && it->second != file)
      t.reused.push_back("token " + std::to_string(token) + ": " + it->second + " and " + file);
    t.max_lease = std::max<std::uint64_t>(t.max_lease, token);
    ++logs.leases;
    return true;
  }
  int code = 0, attempt = 0;
  if (!(s >> code >> attempt)) return false;
  if (kind == "ACK") {
    if (code == 200) {
      logs.jobs[job].accepted.push_back(token);
      ++logs.accepted;
    } else if (code == 409) {
      ++(attempt == 0 ? logs.stale_refused : logs.repeat_refused);
    } else {
      ++logs.other_answers;
      std::fprintf(stderr, "ledgerq-soak: %s: ack of %s answered %d\n", file.c_str(), job.c_str(), code);
    }
  } else if (kind == "ACKFAIL") {
    ++logs.failed_sends;
  } else if (kind == "ACKLOCAL") {
    ++logs.other_answers;
    std::fprintf(stderr, "ledgerq-soak: %s: libclient refused the ack of %s itself\n", file.c_str(), job.c_str());
  } else {
    return false;
  }
  return true;
}

// Retries a Driver call through broker hiccups (it should be up by now).
template <class F>
auto with_retries(F&& f) {
  for (int attempt = 0;; ++attempt) {
    try {
      return f();
    } catch (const lq::Error& e) {
      if (!e.retryable() || attempt >= 10) throw std::runtime_error(std::string("asking the broker: ") + e.what());
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
}

// The records of `ids`, those the store has.
std::map<std::string, lq::StatusRecord> lookup_all(lq::Driver& d, const std::vector<std::string>& ids) {
  std::map<std::string, lq::StatusRecord> found;
  constexpr std::size_t kPage = 500;  // records without bodies: far below a reply's 1 MiB budget
  for (std::size_t at = 0; at < ids.size(); at += kPage) {
    const std::vector<std::string> page(ids.begin() + static_cast<std::ptrdiff_t>(at),
                                        ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), at + kPage)));
    for (auto& j : with_retries([&] { return d.lookup(kDatasource, page); })) found.emplace(j.state.job, j.state);
    // A missing id is asked alone before it is called lost: a reply cut by
    // its byte budget (`more`) leaves ids out as well.
    for (const auto& id : page)
      if (!found.count(id))
        if (auto j = with_retries([&] { return d.lookup(kDatasource, id); })) found.emplace(id, j->state);
  }
  return found;
}

std::string describe(const lq::StatusRecord& r) {
  return std::string(lq::to_string(r.status)) + " token " + std::to_string(r.token) + " worker " + r.worker;
}

}  // namespace

WorkerLogs read_worker_logs(const std::filesystem::path& dir) {
  WorkerLogs logs;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (name.rfind("worker-", 0) == 0 && e.path().extension() == ".log") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& p : files) {
    std::ifstream in(p);
    std::string line;
    while (std::getline(in, line))
      if (!fold_line(line, p.filename().string(), logs)) ++logs.unreadable;
  }
  return logs;
}

StoreReport check_store(const Endpoints& endpoints, std::uint32_t timeout_ms, const ProducerTally& producers,
                        const WorkerLogs& logs) {
  lq::DriverOptions o;
  o.router = endpoints.router;
  o.requests_pub = endpoints.requests_pub;
  o.timeout = std::chrono::milliseconds(std::max<std::uint32_t>(timeout_ms, 10'000));
  lq::Driver driver(o);  // fresh: nothing cached from the run

  std::vector<std::string> ids = producers.acked;
  ids.insert(ids.end(), producers.unknown.begin(), producers.unknown.end());
  for (const auto& [job, trail] : logs.jobs) ids.push_back(job);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  const auto store = lookup_all(driver, ids);

  StoreReport r;
  // 1: every acknowledged submit is stored, and (drained) ended complete.
  r.acked = producers.acked.size();
  for (const auto& id : producers.acked) {
    auto it = store.find(id);
    if (it == store.end()) {
      ++r.lost;
      example(r.lost_examples, id + ": acknowledged, not in the store");
    } else if (it->second.status == lq::JobStatus::complete) {
      ++r.completed;
    } else if (lq::is_terminal(it->second.status)) {
      ++r.not_complete;
      example(r.lost_examples, id + ": ended " + describe(it->second));
    }
  }
  r.unknown = producers.unknown.size();
  for (const auto& id : producers.unknown) r.unknown_stored += store.count(id);

  // 2 and 3: per job, the accepted successes against the record.
  for (const auto& [job, trail] : logs.jobs) {
    for (const auto& reuse : trail.reused) {
      ++r.token_reused;
      example(r.stale_examples, job + ": leased to two workers under " + reuse);
    }
    if (trail.accepted.empty()) continue;
    if (trail.accepted.size() > 1) {
      ++r.double_success;
      std::string tokens;
      for (auto t : trail.accepted) tokens += " " + std::to_string(t);
      example(r.double_examples, job + ": success accepted " + std::to_string(trail.accepted.size()) +
                                     " times, tokens" + tokens);
    }
    auto it = store.find(job);
    for (auto token : trail.accepted) {
      std::string why;
      if (it == store.end())
        why = "not in the store";
      else if (it->second.status != lq::JobStatus::complete || it->second.token != token)
        why = "the store says " + describe(it->second);
      else if (token < trail.max_lease)
        why = "a later lease was logged, token " + std::to_string(trail.max_lease);
      if (why.empty()) continue;
      ++r.stale_accepted;
      example(r.stale_examples, job + ": success under token " + std::to_string(token) + " accepted; " + why);
    }
  }
  for (const auto& [id, rec] : store)
    if (rec.status == lq::JobStatus::complete) {
      auto t = logs.jobs.find(id);
      if (t == logs.jobs.end() || t->second.accepted.empty()) ++r.completed_unseen;
    }
  return r;
}

int run_verify(const std::string& replay, const std::filesystem::path& data, const std::filesystem::path& output) {
  Child c({replay, "--data", data.string(), "--verify", "--no-progress"}, output);
  // Folding a long soak's log takes a while, longer under ASan.
  for (;;) {
    if (auto s = c.poll()) return *s;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace ledgerq::soak
