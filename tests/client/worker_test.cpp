// Worker against a real broker: leases, acks, retries, stale tokens, parked
// dequeues, priorities, types, per-key order, cancels, heartbeats,
// checkpoints and piggybacked acks.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <set>

#include "support.hpp"

namespace {
using namespace lqt;

class WorkerTest : public BrokerTest {
 protected:
  // A datasource whose retries come soon, so tests need not wait out the
  // default backoff (1 s).
  void make_ds(const std::string& ds, lq::DatasourceOptions o = {}) {
    if (o.retry_base.count() == 0) o.retry_base = 20ms;
    if (o.retry_cap.count() == 0) o.retry_cap = 40ms;
    ASSERT_TRUE(driver_->create_datasource(ds, o));
  }

  void SetUp() override {
    BrokerTest::SetUp();
    driver_.emplace(driver_options());
  }

  std::optional<lq::Driver> driver_;
};

bool is_status(const lq::StatusRecord& r, lq::JobStatus s) { return r.status == s; }

TEST_F(WorkerTest, DequeueAckSuccessCompletes) {
  make_ds("ds");
  lq::Client c("alice", client_options());
  (void)c.submit("ds", "j1", lq::Payload::from_json(R"({"n":1})"));
  lq::Worker w("ds", worker_options("nick:1"));
  EXPECT_EQ(w.name(), "nick:1");

  auto jobs = w.dequeue(1);
  ASSERT_EQ(jobs.size(), 1u);
  const auto& j = jobs[0];
  EXPECT_EQ(j.job, "j1");
  EXPECT_EQ(j.client, "alice");
  EXPECT_EQ(j.request.to_json(), R"({"n":1})");
  EXPECT_GT(j.token, 0u);
  EXPECT_GT(j.lease_until, 0u);
  EXPECT_EQ(j.attempts_made, 1u);
  EXPECT_EQ(j.attempts, 2u);
  EXPECT_GT(j.submitted, 0u);
  EXPECT_TRUE(w.holds("j1"));

  auto s = c.status("ds", "j1");
  EXPECT_EQ(s.status, lq::JobStatus::accepted);
  EXPECT_EQ(s.worker, "nick:1");
  EXPECT_EQ(s.token, j.token);

  w.ack_success("j1", lq::Payload::from_text("done"), "all good");
  EXPECT_FALSE(w.holds("j1"));
  auto done = c.wait_for("ds", "j1", 10s);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, lq::JobStatus::complete);
  ASSERT_TRUE(done->response);
  EXPECT_EQ(done->response->as_text(), "done");
  EXPECT_EQ(done->custom_status, "all good");
  // Acked: no longer held, so a second ack is refused here, at once.
  expect_code(lq::Code::conflict, [&] { w.ack_success("j1"); });
  // Nothing left.
  EXPECT_TRUE(w.dequeue(1).empty());
}

TEST_F(WorkerTest, DefaultNameIsGenerated) {
  make_ds("ds");
  lq::Worker a("ds", worker_options());
  lq::Worker b("ds", worker_options());
  EXPECT_EQ(a.name().rfind("worker:", 0), 0u);
  EXPECT_EQ(a.name().size(), 7u + 16u);
  EXPECT_NE(a.name(), b.name());
}

TEST_F(WorkerTest, FailureRetriesThenFails) {
  make_ds("ds");
  Collector<lq::StatusNotice> notices;
  lq::Client c("alice", client_options([&](const lq::StatusNotice& n) { notices.push(n); }));
  lq::JobOptions o;
  o.attempts = 2;
  (void)c.submit("ds", "j1", lq::Payload::from_text("x"), o);
  lq::Worker w("ds", worker_options());

  auto first = w.dequeue(1);
  ASSERT_EQ(first.size(), 1u);
  w.ack_failure("j1", "boom", 0ms);
  auto r = c.status("ds", "j1");
  EXPECT_EQ(r.status, lq::JobStatus::retrying);
  EXPECT_EQ(r.error, "boom");

  auto second = w.dequeue(1, 10s);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].attempts_made, 2u);
  EXPECT_GT(second[0].token, first[0].token);
  w.ack_failure("j1", "boom again");
  auto end = c.wait_for("ds", "j1", 10s);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->status, lq::JobStatus::failed);
  EXPECT_EQ(end->error, "boom again");

  ASSERT_TRUE(notices.wait_any([](const lq::StatusNotice& n) { return is_status(n.data, lq::JobStatus::failed); }));
  std::vector<lq::JobStatus> seen;
  for (const auto& n : notices.items()) seen.push_back(n.data.status);
  const std::vector<lq::JobStatus> want = {lq::JobStatus::submitted, lq::JobStatus::accepted,
                                           lq::JobStatus::retrying, lq::JobStatus::accepted,
                                           lq::JobStatus::failed};
  EXPECT_EQ(seen, want);
}

TEST_F(WorkerTest, StaleTokenAfterLeaseExpiryIsRefused) {
  make_ds("ds");
  lq::Client c("alice", client_options());
  (void)c.submit("ds", "j1", lq::Payload());
  auto o1 = worker_options("w1");
  o1.lease = 200ms;
  o1.cancel_check_interval = 0ms;  // keep the local lease until the broker refuses it
  lq::Worker w1("ds", o1);
  lq::Worker w2("ds", worker_options("w2"));

  auto got = w1.dequeue(1);
  ASSERT_EQ(got.size(), 1u);
  // The lease runs out on the broker's clock: the job goes back to the queue.
  auto back = c.wait_for("ds", "j1", 10s, [](const lq::StatusRecord& r) { return r.status != lq::JobStatus::accepted; });
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, lq::JobStatus::retrying);

  auto again = w2.dequeue(1, 10s);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_GT(again[0].token, got[0].token);
  EXPECT_TRUE(w1.holds("j1"));  // w1 has not learnt yet
  expect_code(lq::Code::conflict, [&] { w1.ack_success("j1"); });
  EXPECT_FALSE(w1.holds("j1"));  // ... now it has
  expect_code(lq::Code::conflict, [&] { (void)w1.heartbeat("j1", 1s); });

  w2.ack_success("j1", lq::Payload::from_text("w2"));
  auto done = c.status("ds", "j1");
  EXPECT_EQ(done.status, lq::JobStatus::complete);
  EXPECT_EQ(done.worker, "w2");
}

TEST_F(WorkerTest, LostLeaseIsNoticedByTheCheck) {
  make_ds("ds");
  lq::Client c("alice", client_options());
  (void)c.submit("ds", "j1", lq::Payload());
  auto o = worker_options();
  o.lease = 100ms;
  o.cancel_check_interval = 50ms;
  lq::Worker w("ds", o);
  ASSERT_EQ(w.dequeue(1).size(), 1u);
  EXPECT_TRUE(eventually([&] { return !w.holds("j1"); }));
}

TEST_F(WorkerTest, ParkedDequeueIsWokenBySubmit) {
  make_ds("ds");
  auto o = worker_options();
  o.timeout = 500ms;  // shorter than the wait: the wait must not count against it
  lq::Worker w("ds", o);
  auto f = w.dequeue_async(1, 60s);
  // A barrier: the broker reads one connection in order, so once this dry
  // run is answered the dequeue before it has been seen and is parked.
  EXPECT_TRUE(w.peek(1).empty());
  lq::Client c("alice", client_options());
  (void)c.submit("ds", "late", lq::Payload::from_text("hello"));
  ASSERT_EQ(f.wait_for(30s), std::future_status::ready) << "the submit did not wake the dequeue";
  auto jobs = f.get();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].job, "late");
  EXPECT_EQ(jobs[0].request.as_text(), "hello");
}

// A dequeue that parks in the same batch as a later submit of its
// datasource is woken by it (the broker tries such dequeues once more before
// they wait). Here: dequeue and submit sent back to back from two
// connections, so that some pairs land in one batch.
TEST_F(WorkerTest, ParkedInTheSameBatchAsTheSubmitIsWoken) {
  constexpr int kPairs = 20;
  std::vector<std::unique_ptr<lq::Worker>> ws;
  for (int i = 0; i < kPairs; ++i) {
    make_ds("ds" + std::to_string(i));
    ws.push_back(std::make_unique<lq::Worker>("ds" + std::to_string(i), worker_options()));
  }
  lq::Client c("alice", client_options());
  (void)c.ping();
  std::vector<std::future<std::vector<lq::LeasedJob>>> fs;
  std::vector<std::future<lq::SubmitResult>> ss;
  for (int i = 0; i < kPairs; ++i) {
    fs.push_back(ws[i]->dequeue_async(1, 20s));
    ss.push_back(c.submit_async("ds" + std::to_string(i), "j", lq::Payload()));
  }
  for (auto& s : ss) (void)s.get();
  int stuck = 0;
  for (auto& f : fs)
    if (f.wait_for(5s) != std::future_status::ready) ++stuck;
  EXPECT_EQ(stuck, 0) << stuck << " of " << kPairs << " dequeues slept through an eligible job";
}

TEST_F(WorkerTest, LongWaitDoesNotTripTheRequestTimeout) {
  make_ds("ds");
  auto o = worker_options();
  o.timeout = 300ms;
  lq::Worker w("ds", o);
  // Nothing to lease: the broker answers empty when the wait has passed,
  // long after the request timeout alone would have.
  const auto t0 = std::chrono::steady_clock::now();
  auto jobs = w.dequeue(1, 1200ms);
  EXPECT_TRUE(jobs.empty());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 1000ms);
}

TEST_F(WorkerTest, PrioritiesOrder) {
  make_ds("ds");
  lq::Client c("alice", client_options());
  auto submit = [&](const std::string& job, std::uint8_t p) {
    lq::JobOptions o;
    o.priority = p;
    (void)c.submit("ds", job, lq::Payload(), o);
  };
  submit("low", 3);
  submit("high", 1);
  submit("mid", 2);
  submit("high2", 1);
  lq::Worker w("ds", worker_options());
  std::vector<std::string> order;
  for (int i = 0; i < 4; ++i) {
    auto j = w.dequeue(1);
    ASSERT_EQ(j.size(), 1u);
    order.push_back(j[0].job);
    EXPECT_EQ(j[0].priority, order.back().rfind("high", 0) == 0 ? 1 : order.back() == "mid" ? 2 : 3);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"high", "high2", "mid", "low"}));

  // A batch dequeue takes the same order.
  submit("b3", 3);
  submit("b1", 1);
  auto both = w.dequeue(5);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].job, "b1");
  EXPECT_EQ(both[1].job, "b3");
}

TEST_F(WorkerTest, TypesFilter) {
  make_ds("ds");
  lq::Client c("alice", client_options());
  lq::JobOptions img, txt;
  img.type = "img";
  txt.type = "txt";
  (void)c.submit("ds", "i1", lq::Payload(), img);
  (void)c.submit("ds", "t1", lq::Payload(), txt);
  (void)c.submit("ds", "u1", lq::Payload());

  auto o = worker_options();
  o.types = std::vector<std::string>{"txt"};
  lq::Worker tw("ds", o);
  auto peeked = tw.peek(10);
  ASSERT_EQ(peeked.size(), 1u);
  EXPECT_EQ(peeked[0].state.job, "t1");
  EXPECT_FALSE(tw.holds("t1"));  // a dry run leases nothing
  auto got = tw.dequeue(10);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].job, "t1");
  EXPECT_EQ(got[0].type, "txt");
  EXPECT_TRUE(tw.dequeue(10).empty());

  lq::Worker any("ds", worker_options());
  auto rest = any.dequeue(10);
  std::vector<std::string> ids;
  for (const auto& j : rest) ids.push_back(j.job);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"i1", "u1"}));
}

TEST_F(WorkerTest, OneJobPerKeyInSubmitOrder) {
  make_ds("ds");
  lq::Client c("alice", client_options());
  lq::JobOptions k;
  k.key = "res-1";
  (void)c.submit("ds", "k-a", lq::Payload(), k);
  (void)c.submit("ds", "k-b", lq::Payload(), k);
  (void)c.submit("ds", "k-c", lq::Payload(), k);
  (void)c.submit("ds", "free", lq::Payload());
  lq::Worker w("ds", worker_options());

  auto first = w.dequeue(10);
  std::vector<std::string> ids;
  for (const auto& j : first) ids.push_back(j.job);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"free", "k-a"})) << "only the head of a key's line is eligible";
  w.ack_success("free");
  w.ack_success("k-a");
  for (const char* next : {"k-b", "k-c"}) {
    auto j = w.dequeue(10, 5s);
    ASSERT_EQ(j.size(), 1u);
    EXPECT_EQ(j[0].job, next);
    EXPECT_EQ(j[0].key, "res-1");
    w.ack_success(next);
  }
  EXPECT_TRUE(w.dequeue(10).empty());
}

TEST_F(WorkerTest, CancelOfHeldJobReachesWorker) {
  make_ds("ds");
  Collector<std::string> cancels;
  lq::Client c("alice", client_options());
  (void)c.submit("ds", "j1", lq::Payload());
  (void)c.submit("ds", "j2", lq::Payload());
  auto o = worker_options();
  o.on_cancel = [&](const std::string& job) { cancels.push(job); };
  lq::Worker w("ds", o);
  auto got = w.dequeue(1);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].job, "j1");

  // Not held by anyone: cancelled at once.
  auto r2 = c.cancel("ds", "j2");
  EXPECT_EQ(r2.status, lq::JobStatus::cancelled);

  // Held: the worker is told, and decides.
  auto r1 = c.cancel("ds", "j1");
  EXPECT_EQ(r1.status, lq::JobStatus::accepted);
  EXPECT_TRUE(r1.cancel_requested);
  ASSERT_TRUE(cancels.wait_size(1));
  EXPECT_EQ(cancels.items(), std::vector<std::string>{"j1"});
  EXPECT_TRUE(w.cancel_requested("j1"));
  w.ack_cancelled("j1");
  auto end = c.wait_for("ds", "j1", 10s);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->status, lq::JobStatus::cancelled);
  EXPECT_EQ(cancels.size(), 1u);
}

TEST_F(WorkerTest, CancelIsSeenWithoutTheTopicToo) {
  // Even with the request topic's entry lost, the periodic check finds the
  // cancel: simulated by a worker that follows no topic at all but checks.
  make_ds("ds");
  lq::Client c("alice", client_options());
  (void)c.submit("ds", "j1", lq::Payload());
  auto o = worker_options();
  o.cancel_check_interval = 50ms;
  o.requests_pub = broker_->status_pub();  // a PUB that never carries request entries
  lq::Worker w("ds", o);
  ASSERT_EQ(w.dequeue(1).size(), 1u);
  (void)c.cancel("ds", "j1");
  EXPECT_TRUE(eventually([&] { return w.cancel_requested("j1"); }));
}

TEST_F(WorkerTest, HeldCancelledJobEndsCancelledWhenLeaseRunsOut) {
  make_ds("ds");
  lq::Client c("alice", client_options());
  (void)c.submit("ds", "j1", lq::Payload());
  auto o = worker_options();
  o.lease = 200ms;
  lq::Worker w("ds", o);
  ASSERT_EQ(w.dequeue(1).size(), 1u);
  (void)c.cancel("ds", "j1");
  auto end = c.wait_for("ds", "j1", 10s);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->status, lq::JobStatus::cancelled);
}

TEST_F(WorkerTest, HeartbeatKeepsLeaseAlivePastItsDeadline) {
  make_ds("ds");
  lq::Client c("alice", client_options());
  (void)c.submit("ds", "j1", lq::Payload());
  auto o = worker_options();
  o.lease = 300ms;
  lq::Worker w("ds", o);
  auto got = w.dequeue(1);
  ASSERT_EQ(got.size(), 1u);
  const lq::Micros first_deadline = got[0].lease_until;

  auto rec = w.heartbeat("j1", 5s);
  EXPECT_GT(rec.lease_until, first_deadline);
  EXPECT_EQ(rec.status, lq::JobStatus::accepted);
  // Wait, on the broker's clock, until the first deadline is well past.
  ASSERT_TRUE(eventually([&] { return driver_->ping().now > first_deadline + 200'000; }));
  auto now = c.status("ds", "j1");
  EXPECT_EQ(now.status, lq::JobStatus::accepted);
  EXPECT_EQ(now.token, got[0].token);
  w.ack_success("j1");
  EXPECT_EQ(c.status("ds", "j1").status, lq::JobStatus::complete);
}

TEST_F(WorkerTest, CheckpointRewritesAndReleases) {
  make_ds("ds");
  lq::Client c("alice", client_options());
  lq::JobOptions o;
  o.custom_status = "queued;";
  (void)c.submit("ds", "j1", lq::Payload::from_text("v1"), o);
  lq::Worker w("ds", worker_options());
  ASSERT_EQ(w.dequeue(1).size(), 1u);

  lq::CheckpointOptions cp;
  cp.request = lq::Payload::from_text("v2");
  cp.custom_status = "half done";
  auto r = w.checkpoint("j1", cp);
  EXPECT_EQ(r.custom_status, "half done");
  EXPECT_EQ(r.status, lq::JobStatus::accepted);

  // run_after without to_pending: refused.
  lq::CheckpointOptions bad;
  bad.attempts = 3;
  expect_code(lq::Code::bad_request, [&] { (void)w.checkpoint("j1", bad); });
  EXPECT_TRUE(w.holds("j1"));

  lq::CheckpointOptions release;
  release.to_pending = true;
  release.attempts = 5;
  r = w.checkpoint("j1", release);
  EXPECT_EQ(r.status, lq::JobStatus::submitted);
  EXPECT_EQ(r.attempts, 5u);
  EXPECT_EQ(r.attempts_made, 0u);
  EXPECT_FALSE(w.holds("j1"));

  auto again = w.dequeue(1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].request.as_text(), "v2");
  EXPECT_EQ(again[0].attempts_made, 1u);
  EXPECT_EQ(again[0].attempts, 5u);
  EXPECT_EQ(again[0].custom_status, "half done");
}

TEST_F(WorkerTest, PiggybackedAcksGoWithTheNextDequeue) {
  make_ds("ds");
  lq::Client c("alice", client_options());
  for (const char* j : {"a", "b", "c"}) (void)c.submit("ds", j, lq::Payload());
  Collector<lq::Error> errors;
  auto o = worker_options();
  o.on_error = [&](const lq::Error& e) { errors.push(e); };
  lq::Worker w("ds", o);
  auto got = w.dequeue(2);
  ASSERT_EQ(got.size(), 2u);
  w.ack_success_later(got[0].job, lq::Payload::from_text("ok"));
  w.ack_failure_later(got[1].job, "nope", 3600s);  // retried in an hour: not leased again below
  expect_code(lq::Code::conflict, [&] { w.ack_cancelled_later(got[0].job); });  // already queued
  expect_code(lq::Code::conflict, [&] { w.ack_success_later("c"); });          // not held
  EXPECT_EQ(w.queued_acks(), 2u);

  auto next = w.dequeue(3);  // carries both acks, applied before leasing
  EXPECT_EQ(w.queued_acks(), 0u);
  EXPECT_EQ(c.status("ds", got[0].job).status, lq::JobStatus::complete);
  EXPECT_EQ(c.status("ds", got[1].job).status, lq::JobStatus::retrying);
  EXPECT_FALSE(w.holds(got[0].job));
  std::vector<std::string> ids;
  for (const auto& j : next) ids.push_back(j.job);
  EXPECT_NE(std::find(ids.begin(), ids.end(), "c"), ids.end());

  // flush_acks sends the queue by itself.
  w.ack_success_later("c");
  auto results = w.flush_acks();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].ok());
  EXPECT_EQ(c.status("ds", "c").status, lq::JobStatus::complete);
  EXPECT_TRUE(w.flush_acks().empty());
  EXPECT_EQ(errors.size(), 0u);
}

TEST_F(WorkerTest, RateLimitedDequeueIsRetryableAndKeepsAcks) {
  lq::DatasourceOptions d;
  d.dequeue_rate = 1;
  make_ds("ds", d);
  lq::Client c("alice", client_options());
  for (const char* j : {"a", "b", "c"}) (void)c.submit("ds", j, lq::Payload());
  lq::Worker w("ds", worker_options());
  auto first = w.dequeue(1);
  ASSERT_EQ(first.size(), 1u);
  w.ack_success_later(first[0].job);
  try {
    (void)w.dequeue(1);
    // One token a second: a second dequeue in the same second is refused,
    // unless the second turned over in between (then this test proves less).
  } catch (const lq::Error& e) {
    EXPECT_EQ(e.code(), lq::Code::rate_limited);
    EXPECT_TRUE(e.retryable());
    EXPECT_EQ(w.queued_acks(), 1u) << "a refused dequeue applied nothing; its acks stay queued";
    EXPECT_EQ(c.status("ds", first[0].job).status, lq::JobStatus::accepted);
  }
}

TEST_F(WorkerTest, UnknownDatasourceAndBadArguments) {
  lq::Worker w("nope", worker_options());
  expect_code(lq::Code::not_found, [&] { (void)w.dequeue(1); });
  make_ds("ds");
  lq::Worker ok("ds", worker_options());
  expect_code(lq::Code::bad_request, [&] { (void)ok.dequeue(0); });
  expect_code(lq::Code::bad_request, [&] { (void)ok.dequeue(1, lq::kMaxDequeueWait + 1ms); });
  expect_code(lq::Code::conflict, [&] { ok.ack_success("never-leased"); });
  expect_code(lq::Code::conflict, [&] { (void)ok.heartbeat("never-leased", 1s); });
  expect_code(lq::Code::bad_request, [] { lq::Worker bad("", lq::WorkerOptions{}); });
}

}  // namespace

namespace {
using namespace lqt;

// A free TCP port of 127.0.0.1, for a broker that must come back where it was.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// The threads of this process that libclient runs its I/O on (it names them).
std::set<pid_t> io_threads() {
  std::set<pid_t> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(e.path() / "comm");
    std::string name;
    if (std::getline(comm, name) && name == "ledgerq-io") out.insert(std::stoi(e.path().filename().string()));
  }
  return out;
}

// True once thread `tid` sleeps (an I/O thread: waiting in zmq_poll).
bool sleeping(pid_t tid) {
  for (int i = 0; i < 200; ++i) {
    std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
    std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto paren = all.rfind(')');
    if (paren != std::string::npos && paren + 2 < all.size() && all[paren + 2] == 'S') return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

extern "C" void do_nothing(int) {}

// A signal the application handles must not end an I/O thread. A
// process-directed signal (SIGCHLD of a command that `ledgerq work` ran)
// goes to any thread that does not block it; glibc's posix_spawn blocks
// every signal on the spawning thread until the child has exec'd, so a
// command quick to exit, on a loaded machine, had its SIGCHLD handled on
// the Worker's I/O thread. zmq_poll failed there with EINTR, the thread
// ended, and every call after failed with closed. Here the signal is sent
// to the I/O threads themselves, each waiting in zmq_poll.
TEST_F(WorkerTest, ASignalHandledByTheApplicationDoesNotEndTheIoThread) {
  make_ds("ds");
  // Handled, without SA_RESTART (as `ledgerq work` handles SIGCHLD): a
  // wait the signal interrupts fails with EINTR.
  struct sigaction sa {}, old {};
  sa.sa_handler = do_nothing;
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(::sigaction(SIGUSR1, &sa, &old), 0);
  {
    const auto before = io_threads();
    lq::Client c("alice", client_options());
    lq::Worker w("ds", worker_options("nick:1"));
    (void)c.submit("ds", "j1", lq::Payload::from_json("1"));
    std::set<pid_t> ours;
    for (pid_t t : io_threads())
      if (!before.contains(t)) ours.insert(t);
    ASSERT_EQ(ours.size(), 2u) << "the Client's and the Worker's I/O threads";
    for (pid_t t : ours) {
      ASSERT_TRUE(sleeping(t));
      ASSERT_EQ(::syscall(SYS_tgkill, ::getpid(), t, SIGUSR1), 0);
    }
    auto jobs = w.dequeue(1);
    ASSERT_EQ(jobs.size(), 1u);
    w.ack_success("j1", lq::Payload::from_text("done"));
    EXPECT_EQ(c.status("ds", "j1").status, lq::JobStatus::complete);
  }
  // The threads signalled are gone: no SIGUSR1 is left pending to reach
  // the default action.
  ::sigaction(SIGUSR1, &old, nullptr);
}

// The broker is restarting when a worker dequeues: the request waits in
// ZeroMQ's queue, the worker times out and sends it again, and the broker,
// once up, gets both. The first leases a job whose reply nobody reads; the
// repeat (same dequeue_id) is answered with that same lease, so the worker
// gets it and no other job is left leased to nobody.
TEST(WorkerRestart, ADequeueSentAgainAfterATimeoutLeasesNothingTwice) {
  ledgerq::testing::TempDir dir;
  const std::string router = "tcp://127.0.0.1:" + std::to_string(free_port());
  const std::vector<std::string> flags{"--router", router, "--sync", "none"};
  auto broker = std::make_unique<ledgerq::testing::BrokerProcess>(dir.path() / "data", flags);
  lq::DriverOptions dopt;
  dopt.router = router;
  dopt.requests_pub = broker->requests_pub();
  {
    lq::Driver admin(dopt);
    ASSERT_TRUE(admin.create_datasource("q"));
    lq::ClientOptions co;
    co.router = router;
    co.status_pub = broker->status_pub();
    lq::Client c("c", co);
    c.submit("q", "j1", lq::Payload::from_text("1"));
    c.submit("q", "j2", lq::Payload::from_text("2"));
  }
  ASSERT_EQ(broker->terminate(), 0);

  lq::WorkerOptions wo;
  wo.router = router;
  wo.requests_pub = "";
  wo.watch_cancels = false;
  // The dequeue is sent twice, each send waiting `timeout`: the broker comes
  // back after the first has timed out, with 1.3 s left for it to start
  // (and answer the queued repeat) however loaded the machine (ASan, CI).
  wo.timeout = 1500ms;
  wo.name = "w:1";
  lq::Worker worker("q", wo);
  auto got = worker.dequeue_async(1);
  std::this_thread::sleep_for(1700ms);  // the first send timed out: the repeat is queued too
  broker = std::make_unique<ledgerq::testing::BrokerProcess>(dir.path() / "data", flags);
  auto jobs = got.get();
  ASSERT_EQ(jobs.size(), 1u);
  lq::Driver admin(dopt);
  auto both = admin.lookup("q", std::vector<std::string>{"j1", "j2"});
  ASSERT_EQ(both.size(), 2u);
  std::size_t leased = 0;
  for (const auto& j : both) leased += j.state.status == lq::JobStatus::accepted;
  EXPECT_EQ(leased, 1u) << "one dequeue, sent twice, leased one job";
}

}  // namespace
