// A real ledgerq-broker process for tests and tools (the benchmark):
// started on loopback with ephemeral ports ("tcp://127.0.0.1:*") in a
// directory of the caller's, stopped with SIGTERM or killed with SIGKILL.
// Reads the broker's "ready" line to learn the endpoints it bound, so
// callers never race for ports.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace ledgerq::tools {

/// A fresh directory under the system temp dir, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ledgerq-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class BrokerProcess {
 public:
  /// Starts the broker on `data` with extra flags; waits (up to 20 s) for
  /// its ready line. Throws if it exits or stays silent. Its log (stderr)
  /// goes to `log_file` when one is given, else where ours goes.
  BrokerProcess(const std::string& broker_path, const std::filesystem::path& data,
                std::vector<std::string> extra = {}, const std::filesystem::path& log_file = {}) {
    std::vector<std::string> args = {broker_path, "--data", data.string()};
    // Free loopback ports and warnings only, unless `extra` says otherwise.
    for (const char* flag : {"--router", "--status-pub", "--requests-pub", "--log-level"})
      if (std::find(extra.begin(), extra.end(), flag) == extra.end())
        args.insert(args.end(), {flag, std::string(flag) == "--log-level" ? "warn" : "tcp://127.0.0.1:*"});
    args.insert(args.end(), extra.begin(), extra.end());
    // Everything the child needs is built before fork: after it, in a
    // process with threads (zmq's), only async-signal-safe calls are safe.
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log = log_file.string();
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      if (!log.empty()) {
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) ::dup2(fd, STDERR_FILENO);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    out_ = out[0];
    const std::string line = read_ready_line();
    router_ = field(line, "router=");
    status_ = field(line, "status=");
    requests_ = field(line, "requests=");
  }

  ~BrokerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
  }

  BrokerProcess(const BrokerProcess&) = delete;
  BrokerProcess& operator=(const BrokerProcess&) = delete;

  /// SIGKILL: no chance to flush or clean up, like a power cut to the process.
  void kill9() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  /// SIGTERM and wait; returns the exit status (or -signal).
  int terminate() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

  bool alive() const { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }

  /// Waits (up to `limit`) for the broker to end by itself; returns its
  /// exit status (or -signal), or SIGKILLs it and returns -9 after `limit`.
  int wait_exit(std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() >= until) {
        kill9();
        return -9;
      }
      ::usleep(10'000);
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }
  pid_t pid() const { return pid_; }

  const std::string& router() const { return router_; }
  const std::string& status_pub() const { return status_; }
  const std::string& requests_pub() const { return requests_; }

 private:
  std::string read_ready_line() {
    std::string buf;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char c[256];
      ssize_t n = ::read(out_, c, sizeof c);
      if (n <= 0) break;  // the broker exited
      buf.append(c, static_cast<std::size_t>(n));
      auto nl = buf.find('\n');
      if (nl != std::string::npos && buf.find("ready:") < nl) return buf.substr(0, nl);
    }
    throw std::runtime_error("broker did not become ready; it printed: " + buf);
  }

  static std::string field(const std::string& line, const std::string& key) {
    auto at = line.find(key);
    if (at == std::string::npos) throw std::runtime_error("no " + key + " in: " + line);
    at += key.size();
    return line.substr(at, line.find(' ', at) - at);
  }

  pid_t pid_ = -1;
  int out_ = -1;
  std::string router_, status_, requests_;
};

/// Any child process of a test: started with argv, signalled, reaped.
class ChildProcess {
 public:
  explicit ChildProcess(std::vector<std::string> args) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~ChildProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  void signal(int sig) const { ::kill(pid_, sig); }
  void kill9() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  /// SIGTERM, then wait for it to end.
  void terminate() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  /// Whether it has ended (reaps it if so); never blocks.
  bool exited() {
    if (pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == pid_) pid_ = -1;
    return pid_ <= 0;
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

/// Runs a program to completion with `args`; returns its exit status and
/// what it wrote to stdout and stderr together.
inline std::pair<int, std::string> run_once(const std::string& program, const std::vector<std::string>& args) {
  std::string cmd = program;
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("popen failed");
  std::string out;
  char buf[512];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace ledgerq::tools
