// One command run by `ledgerq work` for one job: a child process with pipes
// on its stdin (fed `input`), stdout (kept up to a bound) and stderr (only
// its tail kept). Nothing here blocks: the owner polls the descriptors
// (poll_fds), then calls service(); reap() tells when the child has ended.
// The child runs in a process group of its own, so a Ctrl-C on the
// terminal reaches `ledgerq work` only, which decides what the command gets.
//
// Threads: one thread uses a Child. Every descriptor is close-on-exec, so
// no other child inherits it.
#pragma once

#include <poll.h>
#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace ledgerq::cli {

class Child {
 public:
  /// Starts argv[0] (searched in PATH, as execvp does) with `env` as its
  /// whole environment ("K=V" strings). Keeps at most `max_out` bytes of
  /// stdout (more sets overflowed()) and the last `err_tail` bytes of
  /// stderr. Throws std::system_error when the command cannot be started
  /// (not found, not executable, no pipes left).
  Child(const std::vector<std::string>& argv, const std::vector<std::string>& env, std::string input,
        std::size_t max_out, std::size_t err_tail);
  /// A child still running is killed (its whole group) and reaped: none is
  /// left behind as a zombie or an orphan.
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  /// Appends the descriptors to poll (stdin while input is left, stdout,
  /// stderr while open).
  void poll_fds(std::vector<pollfd>& out) const;
  /// Writes what stdin takes and reads what stdout and stderr hold, without
  /// blocking.
  void service();
  /// True once the child has exited (waitpid, without blocking); its
  /// output written before it exited is then all read, and the pipes
  /// closed (a grandchild still writing to them is not waited for).
  bool reap();
  /// Sends `sig` to the child's process group (the command and what it started).
  void signal(int sig) const;

  [[nodiscard]] pid_t pid() const { return pid_; }
  /// The wait status (for WIFEXITED and the like), once reap() returned true;
  /// exit status 127 when waitpid failed (the status is unknown).
  [[nodiscard]] int wait_status() const { return status_; }
  [[nodiscard]] const std::string& out() const { return out_; }
  [[nodiscard]] bool overflowed() const { return overflowed_; }
  /// The last bytes of stderr (at most err_tail).
  [[nodiscard]] std::string err() const;

 private:
  void service_outputs();
  void read_from(int& fd, bool is_out);
  static void close_fd(int& fd);

  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  int in_ = -1, out_fd_ = -1, err_fd_ = -1;
  std::string input_;
  std::size_t written_ = 0;
  std::string out_, err_;
  std::size_t max_out_, err_tail_;
  bool overflowed_ = false;
};

}  // namespace ledgerq::cli
