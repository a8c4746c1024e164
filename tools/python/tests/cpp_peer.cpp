// cpp_peer: the C++ side of the Python binding's end-to-end tests, written
// against libclient's public API only. Each mode prints one JSON line per
// event on stdout and exits 0 on success.
//
//   cpp_peer worker ROUTER REQUESTS_PUB DS N
//       leases N jobs with lq::Worker and acks each `success` with the
//       response {"by":"cpp","job":<id>,"echo":<request>}; prints each job.
//   cpp_peer driver ROUTER REQUESTS_PUB DS N
//       follows DS with lq::Driver and updates the first N submitted jobs to
//       `complete` with the same response; prints each job.
//   cpp_peer submit ROUTER STATUS_PUB DS CLIENT JOB BODY_JSON
//       submits JOB as CLIENT with lq::Client, waits for a terminal status and
//       prints {"status":..,"response":<json or null>,"error":..}.
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ledgerq/ledgerq.hpp"

namespace lq = ledgerq::client;
using namespace std::chrono_literals;

namespace {

constexpr auto kGiveUp = 15s;

lq::Payload response_for(const std::string& job, const lq::Payload& request) {
  nlohmann::json r{{"by", "cpp"}, {"job", job}, {"echo", nlohmann::json::parse(request.to_json())}};
  return lq::Payload::from_json(r.dump());
}

void print_job(const std::string& job, const std::string& client, const lq::Payload& request) {
  nlohmann::json line{{"job", job}, {"client", client}, {"request", nlohmann::json::parse(request.to_json())}};
  std::cout << line.dump() << std::endl;
}

int run_worker(const std::string& router, const std::string& requests_pub, const std::string& ds, int n) {
  lq::WorkerOptions options;
  options.router = router;
  options.requests_pub = requests_pub;
  options.name = "cpp-peer";
  options.watch_cancels = false;
  lq::Worker worker(ds, options);
  const auto deadline = std::chrono::steady_clock::now() + kGiveUp;
  int done = 0;
  while (done < n) {
    if (std::chrono::steady_clock::now() > deadline) return 2;
    for (const auto& job : worker.dequeue(static_cast<std::uint32_t>(n - done), 1000ms)) {
      worker.ack_success(job.job, response_for(job.job, job.request));
      print_job(job.job, job.client, job.request);
      ++done;
    }
  }
  return 0;
}

int run_driver(const std::string& router, const std::string& requests_pub, const std::string& ds, int n) {
  lq::DriverOptions options;
  options.router = router;
  options.requests_pub = requests_pub;
  lq::Driver driver(options);
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<lq::RequestEntry> entries;
  driver.follow(ds, 0, [&](const lq::RequestEntry& e) {  // on the I/O thread: only hand it over
    std::lock_guard lock(mutex);
    entries.push_back(e);
    cv.notify_one();
  });
  int done = 0;
  while (done < n) {
    std::unique_lock lock(mutex);
    if (!cv.wait_for(lock, kGiveUp, [&] { return !entries.empty(); })) return 2;
    lq::RequestEntry e = std::move(entries.front());
    entries.pop_front();
    lock.unlock();
    if (e.type != lq::EntryType::request) continue;
    const lq::Payload request = e.request.value_or(lq::Payload());
    driver.update(ds, e.job, lq::JobStatus::complete, response_for(e.job, request));
    print_job(e.job, e.client, request);
    ++done;
  }
  return 0;
}

int run_submit(const std::string& router, const std::string& status_pub, const std::string& ds,
               const std::string& client_id, const std::string& job, const std::string& body) {
  lq::ClientOptions options;
  options.router = router;
  options.status_pub = status_pub;
  lq::Client client(client_id, options);
  client.submit(ds, job, lq::Payload::from_json(body));
  const auto record = client.wait_for(ds, job, kGiveUp);
  if (!record) return 3;
  nlohmann::json line{{"status", std::string(lq::to_string(record->status))},
                      {"response", record->response ? nlohmann::json::parse(record->response->to_json())
                                                    : nlohmann::json(nullptr)},
                      {"error", record->error}};
  std::cout << line.dump() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 5 && (args[0] == "worker" || args[0] == "driver")) {
      const int n = std::atoi(args[4].c_str());
      return args[0] == "worker" ? run_worker(args[1], args[2], args[3], n) : run_driver(args[1], args[2], args[3], n);
    }
    if (args.size() == 7 && args[0] == "submit") return run_submit(args[1], args[2], args[3], args[4], args[5], args[6]);
  } catch (const std::exception& e) {
    std::cerr << "cpp_peer: " << e.what() << std::endl;
    return 1;
  }
  std::cerr << "usage: cpp_peer worker|driver ROUTER REQUESTS_PUB DS N\n"
               "       cpp_peer submit ROUTER STATUS_PUB DS CLIENT JOB BODY_JSON\n";
  return 64;
}
