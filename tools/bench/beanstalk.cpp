#include "beanstalk.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "bench.hpp"

namespace ledgerq::bench {

BeanstalkConn::BeanstalkConn(int port) : fd_(connect_loopback(port)) {
  if (fd_ < 0) throw std::runtime_error("beanstalkd: cannot connect to port " + std::to_string(port));
}

BeanstalkConn::~BeanstalkConn() {
  if (fd_ >= 0) ::close(fd_);
}

void BeanstalkConn::append_put(std::string& out, std::string_view body) {
  out += "put 1024 0 60 ";
  out += std::to_string(body.size());
  out += "\r\n";
  out += body;
  out += "\r\n";
}

void BeanstalkConn::append_reserve(std::string& out, int timeout_s) {
  out += "reserve-with-timeout " + std::to_string(timeout_s) + "\r\n";
}

void BeanstalkConn::append_delete(std::string& out, std::uint64_t id) { out += "delete " + std::to_string(id) + "\r\n"; }

void BeanstalkConn::send(std::string_view bytes) { send_all(fd_, bytes, "beanstalkd"); }

void BeanstalkConn::fill() {
  if (pos_ > 0 && pos_ == in_.size()) {
    in_.clear();
    pos_ = 0;
  }
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("beanstalkd: connection closed");
    in_.append(buf, static_cast<std::size_t>(n));
    return;
  }
}

bool BeanstalkConn::readable(int timeout_ms) {
  if (pos_ < in_.size()) return true;
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) > 0;
}

std::string BeanstalkConn::read_line() {
  for (;;) {
    auto end = in_.find("\r\n", pos_);
    if (end != std::string::npos) {
      std::string line = in_.substr(pos_, end - pos_);
      pos_ = end + 2;
      return line;
    }
    fill();
  }
}

std::uint64_t BeanstalkConn::read_inserted() {
  std::string line = read_line();
  if (!line.starts_with("INSERTED ")) throw std::runtime_error("beanstalkd: put answered " + line);
  return std::stoull(line.substr(9));
}

std::optional<BeanstalkConn::Job> BeanstalkConn::read_reserved() {
  std::string line = read_line();
  if (line == "TIMED_OUT" || line == "DEADLINE_SOON") return std::nullopt;
  if (!line.starts_with("RESERVED ")) throw std::runtime_error("beanstalkd: reserve answered " + line);
  Job j;
  std::size_t bytes = 0;
  if (std::sscanf(line.c_str(), "RESERVED %lu %zu", &j.id, &bytes) != 2)
    throw std::runtime_error("beanstalkd: bad reply " + line);
  while (in_.size() - pos_ < bytes + 2) fill();
  j.body = in_.substr(pos_, bytes);
  pos_ += bytes + 2;
  return j;
}

void BeanstalkConn::read_deleted() {
  std::string line = read_line();
  if (line != "DELETED") throw std::runtime_error("beanstalkd: delete answered " + line);
}

std::uint64_t BeanstalkConn::put(std::string_view body) {
  std::string out;
  append_put(out, body);
  send(out);
  return read_inserted();
}

std::optional<BeanstalkConn::Job> BeanstalkConn::reserve(int timeout_s) {
  std::string out;
  append_reserve(out, timeout_s);
  send(out);
  return read_reserved();
}

void BeanstalkConn::remove(std::uint64_t id) {
  std::string out;
  append_delete(out, id);
  send(out);
  read_deleted();
}

void BeanstalkConn::use(std::string_view tube) {
  send("use " + std::string(tube) + "\r\n");
  std::string line = read_line();
  if (!line.starts_with("USING")) throw std::runtime_error("beanstalkd: use answered " + line);
}

void BeanstalkConn::watch(std::string_view tube) {
  send("watch " + std::string(tube) + "\r\n");
  std::string line = read_line();
  if (!line.starts_with("WATCHING")) throw std::runtime_error("beanstalkd: watch answered " + line);
}

// ---- the server process ----

BeanstalkdProcess::BeanstalkdProcess(const std::string& path, std::optional<std::filesystem::path> binlog,
                                     int fsync_ms) {
  port_ = free_port();
  std::vector<std::string> args = {path, "-l", "127.0.0.1", "-p", std::to_string(port_)};
  if (binlog) {
    std::filesystem::create_directories(*binlog);
    args.insert(args.end(), {"-b", binlog->string(), "-f", std::to_string(fsync_ms)});
  }
  process_ = std::make_unique<tools::ChildProcess>(args);
  // Ready once it answers: beanstalkd listens before it replays its binlog,
  // so a connect alone would not wait for the replay.
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (Clock::now() < deadline) {
    if (process_->exited()) throw std::runtime_error("beanstalkd exited at start");
    int fd = connect_loopback(port_);
    if (fd >= 0) {
      ::close(fd);
      BeanstalkConn c(port_);
      c.use("default");
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  throw std::runtime_error("beanstalkd did not start");
}

}  // namespace ledgerq::bench
