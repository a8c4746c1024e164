// Runs the real `ledgerq` executable as a child process: arguments, extra
// environment variables and stdin in; exit status, stdout and stderr out
// (kept apart, so a test can parse stdout as JSON and read the message on
// stderr). A Running child can be read line by line while it runs (watch).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ledgerq::testing {

struct Outcome {
  int status = -1;  ///< exit status, or -signal
  std::string out, err;
};

/// A started child with pipes on stdin, stdout and stderr.
class Running {
 public:
  Running(const std::string& program, const std::vector<std::string>& args,
          const std::map<std::string, std::string>& env = {}) {
    std::vector<std::string> argv_s{program};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_s;
    for (char** e = environ; *e; ++e) {
      std::string kv = *e;
      if (!env.contains(kv.substr(0, kv.find('=')))) env_s.push_back(kv);
    }
    for (const auto& [k, v] : env) env_s.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC)) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    in_ = in[1];
    out_ = out[0];
    err_ = err[0];
  }
  ~Running() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    for (int fd : {in_, out_, err_})
      if (fd >= 0) ::close(fd);
  }
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;

  /// The child's process id (its threads are under /proc/PID/task).
  [[nodiscard]] pid_t pid() const { return pid_; }

  /// Sends `sig` to the child (a stop asked of `ledgerq work`).
  void signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }

  /// Writes `text` to the child's stdin and closes it.
  void feed(const std::string& text) {
    std::size_t at = 0;
    while (at < text.size()) {
      ssize_t n = ::write(in_, text.data() + at, text.size() - at);
      if (n <= 0) break;
      at += static_cast<std::size_t>(n);
    }
    ::close(in_);
    in_ = -1;
  }

  /// The next whole line of stdout (without '\n'), or nullopt after `timeout`.
  std::optional<std::string> line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto nl = out_buf_.find('\n'); nl != std::string::npos) {
        std::string l = out_buf_.substr(0, nl);
        out_buf_.erase(0, nl + 1);
        consumed_ += l + "\n";
        return l;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      ssize_t n = ::read(out_, buf, sizeof buf);
      if (n <= 0) return std::nullopt;
      out_buf_.append(buf, static_cast<std::size_t>(n));
    }
  }

  /// Waits for the child to exit (killing it after `timeout`) and collects
  /// everything it wrote (stdout includes the lines read with line()).
  Outcome wait(std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    if (in_ >= 0) {
      ::close(in_);
      in_ = -1;
    }
    Outcome o;
    std::string out = out_buf_, err;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool out_open = true, err_open = true;
    while (out_open || err_open) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        ::kill(pid_, SIGKILL);
        break;
      }
      pollfd p[2] = {{out_open ? out_ : -1, POLLIN, 0}, {err_open ? err_ : -1, POLLIN, 0}};
      if (::poll(p, 2, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      for (int i = 0; i < 2; ++i) {
        if (!(p[i].revents & (POLLIN | POLLHUP))) continue;
        ssize_t n = ::read(p[i].fd, buf, sizeof buf);
        if (n <= 0) (i == 0 ? out_open : err_open) = false;
        else (i == 0 ? out : err).append(buf, static_cast<std::size_t>(n));
      }
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    o.status = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    o.out = consumed_ + out;
    o.err = err;
    return o;
  }

 private:
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1, err_ = -1;
  std::string out_buf_, consumed_;
};

}  // namespace ledgerq::testing
