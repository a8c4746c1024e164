// ledgerq-stateless: ledgerq's protocol with its state taken away, for
// `ledgerq-bench --versus build/tools/bench/ledgerq-stateless --scenarios
// submit`: how fast the submit rows could go, through libclient, ZeroMQ
// and the codec, if the broker's view, log and stored notices cost
// nothing. Not a broker: nothing it holds survives it.
//
// It takes the broker's flags (those it does not use are ignored), prints
// the broker's ready line, and answers what the bench's submit rows send:
// ping, ds_create, stats (all zero), missed (from the last 4,096 notices
// of each client, in memory) and submit (--no-notices: publishing none,
// to measure what they cost); any other command is refused
// with bad_request. A turn is the broker's without the state machine:
// drain up to 1,024 requests; decode each; for a submit, encode its log
// event (as the broker's journal record holds it), its reply and its
// status notice; write the turn's events over a zero-filled file; with
// --sync full, fdatasync it once (on the broker's Syncer thread, beside
// the next turn, when more requests wait; else at once); when that is
// done, send the replies and publish the notices on the status XPUB.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "codec/codec.hpp"
#include "transport/syncer.hpp"

namespace {

using namespace ledgerq;

constexpr std::size_t kBatch = 1024;
constexpr std::size_t kNoticesKept = 4096;                 // per client, for missed
constexpr std::uint64_t kFileBytes = std::uint64_t{64} << 20;  // the ring the turns are written over

std::atomic<bool> stopping{false};
extern "C" void on_signal(int) { stopping = true; }

Micros now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void put_be64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

/// The turns' events, written over a zero-filled file from its start,
/// wrapping at its end, as the journal's ring is.
class Ring {
 public:
  explicit Ring(const std::filesystem::path& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::runtime_error("cannot open " + path.string());
    const std::string zeros(1 << 20, '\0');
    for (std::uint64_t at = 0; at < kFileBytes; at += zeros.size()) write_at(zeros, at);
    if (::fsync(fd_) != 0) throw std::runtime_error("fsync failed");
  }
  ~Ring() { ::close(fd_); }
  void append(const std::string& bytes) {
    if (at_ + bytes.size() > kFileBytes) at_ = 0;
    write_at(bytes, at_);
    at_ += bytes.size();
  }
  void flush() {
    if (::fdatasync(fd_) != 0) throw std::runtime_error("fdatasync failed");
  }

 private:
  void write_at(const std::string& bytes, std::uint64_t at) {
    for (std::size_t done = 0; done < bytes.size();) {
      const ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(at + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::runtime_error("pwrite failed");
      done += static_cast<std::size_t>(n);
    }
  }
  int fd_ = -1;
  std::uint64_t at_ = 0;
};

struct Topic {
  std::uint64_t last = 0;
  std::deque<StatusNotice> kept;
};

class Server {
 public:
  Server(const std::string& data, const std::string& router_at, const std::string& status_at,
         const std::string& requests_at, bool durable, bool notices)
      : ring_(std::filesystem::path(data) / "turns"), notices_(notices) {
    if (durable) syncer_.emplace([this] { ring_.flush(); });
    for (zmq::socket_t* s : {&router_, &status_, &requests_}) s->set(zmq::sockopt::linger, 0);
    router_.bind(router_at);
    status_.bind(status_at);
    requests_.bind(requests_at);
  }

  std::string endpoint(const zmq::socket_t& s) const { return s.get(zmq::sockopt::last_endpoint); }
  std::string router() const { return endpoint(router_); }
  std::string status() const { return endpoint(status_); }
  std::string requests() const { return endpoint(requests_); }

  void run() {
    std::vector<zmq::pollitem_t> items{{static_cast<void*>(router_), 0, ZMQ_POLLIN, 0}};
    if (syncer_) items.push_back({nullptr, syncer_->fd(), ZMQ_POLLIN, 0});
    while (!stopping) {
      try {
        zmq::poll(items, std::chrono::milliseconds(100));
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;
        throw;
      }
      if (syncer_ && (items[1].revents & ZMQ_POLLIN)) {
        syncer_->clear();
        release();
      }
      if (items[0].revents & ZMQ_POLLIN) turn();
    }
  }

 private:
  struct Out {
    zmq::message_t peer;
    std::string reply;
  };
  /// A turn's answers, held until its events are durable.
  struct Held {
    std::uint64_t generation;
    std::vector<Out> replies;
    std::vector<std::pair<std::string, std::string>> notices;  // topic, encoded notice
  };

  void turn() {
    std::vector<Out> replies;
    std::vector<std::pair<std::string, std::string>> notices;  // topic, encoded notice
    std::string events;
    for (std::size_t i = 0; i < kBatch; ++i) {
      std::vector<zmq::message_t> frames;
      if (!zmq::recv_multipart(router_, std::back_inserter(frames), zmq::recv_flags::dontwait)) break;
      if (frames.size() != 3) continue;
      Out out{std::move(frames[0]), {}};
      out.reply = answer(frames[2].to_string_view(), events, notices);
      replies.push_back(std::move(out));
    }
    if (!events.empty()) {
      ring_.append(events);
      ++generation_;
      if (syncer_) {
        const bool waiting = router_.get(zmq::sockopt::events) & ZMQ_POLLIN;
        if (waiting) {
          syncer_->request(generation_);
        } else {
          ring_.flush();
          synced_here_ = generation_;
        }
      }
    }
    held_.push_back({generation_, std::move(replies), std::move(notices)});
    release();
  }

  // Sends the held turns whose events are durable, oldest first.
  void release() {
    const std::uint64_t durable = syncer_ ? std::max(synced_here_, syncer_->durable()) : generation_;
    while (!held_.empty() && held_.front().generation <= durable) {
      for (auto& r : held_.front().replies) {
        router_.send(r.peer, zmq::send_flags::sndmore);
        router_.send(zmq::buffer(codec::kSignature), zmq::send_flags::sndmore);
        router_.send(zmq::buffer(r.reply), zmq::send_flags::none);
      }
      for (const auto& [topic, body] : held_.front().notices) {
        status_.send(zmq::buffer(topic), zmq::send_flags::sndmore);
        status_.send(zmq::buffer(codec::kSignature), zmq::send_flags::sndmore);
        status_.send(zmq::buffer(body), zmq::send_flags::none);
      }
      held_.pop_front();
    }
  }

  std::string answer(std::string_view body, std::string& events,
                     std::vector<std::pair<std::string, std::string>>& notices) {
    auto d = codec::decode_request(body);
    Reply r{d.rid, Code::ok, {}, reply::Empty{}};
    if (!d.command) {
      r.code = d.command.error().code;
      r.message = d.command.error().message;
      return codec::encode_reply(r);
    }
    Command& c = *d.command;
    if (auto* s = std::get_if<cmd::Submit>(&c)) {
      const Micros ts = last_ts_ = std::max(now_us(), last_ts_ + 1);
      Event e{};
      e.type = EventType::submit;
      e.datasource = s->datasource;
      e.job = s->job;
      e.client = s->client;
      e.request = s->request;
      e.options = s->options;
      put_be64(events, ts);
      events += codec::encode(e);
      StatusNotice n;
      n.datasource = s->datasource;
      n.data.job = s->job;
      n.data.client = s->client;
      n.data.submitted = n.data.updated = ts;
      n.timestamp = ts;
      if (notices_) {
        Topic& t = topics_[s->client];
        n.seq = ++t.last;
        notices.emplace_back(codec::status_topic(s->client), codec::encode(n));
        t.kept.push_back(std::move(n));
        if (t.kept.size() > kNoticesKept) t.kept.pop_front();
      }
      r.body = reply::Submit{s->job, s->client, ts, false};
    } else if (auto* m = std::get_if<cmd::Missed>(&c)) {
      reply::Missed out;
      const Topic& t = topics_[m->client];
      out.last = t.last;
      out.next = m->seq;
      const std::size_t limit = m->limit.value_or(100);
      for (const auto& n : t.kept) {
        if (n.seq < m->seq) continue;
        if (out.notices.size() == limit) {
          out.more = true;
          break;
        }
        out.notices.push_back(n);
        out.next = n.seq + 1;
      }
      r.body = std::move(out);
    } else if (std::holds_alternative<cmd::Ping>(c)) {
      r.body = reply::Ping{codec::kVersion, now_us(), "stateless"};
    } else if (std::holds_alternative<cmd::DsCreate>(c)) {
      r.body = reply::DsCreate{true};
    } else if (std::holds_alternative<cmd::Stats>(c)) {
      r.body = reply::Stats{};
    } else {
      r.code = Code::bad_request;
      r.message = "ledgerq-stateless answers ping, ds_create, stats, missed and submit only";
    }
    return codec::encode_reply(r);
  }

  Ring ring_;
  bool notices_;  // publish a status notice per submit, as the broker does
  std::optional<ledgerq::transport::Syncer> syncer_;  // --sync full: the fdatasyncs
  std::uint64_t generation_ = 0;   // turns with events, numbered for the syncer
  std::uint64_t synced_here_ = 0;  // the last generation flushed on this thread
  std::deque<Held> held_;
  zmq::context_t ctx_{1};
  zmq::socket_t router_{ctx_, zmq::socket_type::router};
  zmq::socket_t status_{ctx_, zmq::socket_type::xpub};
  zmq::socket_t requests_{ctx_, zmq::socket_type::xpub};
  std::unordered_map<std::string, Topic> topics_;
  Micros last_ts_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ledgerq-stateless: ledgerq's protocol with no state (ledgerq-bench --versus)"};
  app.allow_extras();
  std::string data, router = "tcp://127.0.0.1:*", status = "tcp://127.0.0.1:*", requests = "tcp://127.0.0.1:*";
  std::string sync = "full";
  bool no_notices = false;
  app.add_option("--data", data)->required();
  app.add_option("--router", router);
  app.add_option("--status-pub", status);
  app.add_option("--requests-pub", requests);
  app.add_option("--sync", sync)->check(CLI::IsMember({"none", "meta", "full"}));
  app.add_flag("--no-notices", no_notices, "Publish no status notices (what they cost; not the protocol)");
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  try {
    std::filesystem::create_directories(data);
    Server s(data, router, status, requests, sync != "none", !no_notices);
    std::printf("ledgerq-broker ready: router=%s status=%s requests=%s data=%s sync=%s security=plain\n",
                s.router().c_str(), s.status().c_str(), s.requests().c_str(), data.c_str(), sync.c_str());
    std::fflush(stdout);
    s.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ledgerq-stateless: %s\n", e.what());
    return 1;
  }
  return 0;
}
