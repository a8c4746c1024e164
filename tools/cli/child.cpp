#include "child.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace ledgerq::cli {
namespace {

struct Pipe {
  int fd[2] = {-1, -1};
};

[[noreturn]] void fail(int err, const std::string& what) { throw std::system_error(err, std::generic_category(), what); }

// posix_spawn's attributes and file actions, released on every path.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

}  // namespace

Child::Child(const std::vector<std::string>& argv, const std::vector<std::string>& env, std::string input,
             std::size_t max_out, std::size_t err_tail)
    : input_(std::move(input)), max_out_(max_out), err_tail_(err_tail) {
  Pipe p[3];
  auto close_all = [&] {
    for (auto& x : p)
      for (int& fd : x.fd) close_fd(fd);
  };
  for (auto& x : p)
    if (::pipe2(x.fd, O_CLOEXEC) != 0) {
      const int e = errno;
      close_all();
      fail(e, "pipe");
    }
  SpawnSetup setup;
  // The child's ends become 0, 1 and 2 (dup2 clears close-on-exec on the
  // copy); every original closes at exec.
  posix_spawn_file_actions_adddup2(&setup.actions, p[0].fd[0], 0);
  posix_spawn_file_actions_adddup2(&setup.actions, p[1].fd[1], 1);
  posix_spawn_file_actions_adddup2(&setup.actions, p[2].fd[1], 2);
  // A group of its own (a terminal's Ctrl-C is for `ledgerq work` to
  // handle), no signal blocked, and default dispositions for the signals
  // this process ignores or handles (SIGPIPE is ignored here).
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGCHLD}) sigaddset(&defaults, sig);
  posix_spawnattr_setpgroup(&setup.attr, 0);
  posix_spawnattr_setsigmask(&setup.attr, &none);
  posix_spawnattr_setsigdefault(&setup.attr, &defaults);
  posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const int rc = ::posix_spawnp(&pid_, args[0], &setup.actions, &setup.attr, args.data(), envp.data());
  if (rc != 0) {
    pid_ = -1;
    close_all();
    fail(rc, "cannot run '" + argv[0] + "'");
  }
  close_fd(p[0].fd[0]);
  close_fd(p[1].fd[1]);
  close_fd(p[2].fd[1]);
  in_ = p[0].fd[1];
  out_fd_ = p[1].fd[0];
  err_fd_ = p[2].fd[0];
  for (int fd : {in_, out_fd_, err_fd_}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  if (input_.empty()) close_fd(in_);
}

Child::~Child() {
  if (pid_ > 0 && !reaped_) {
    signal(SIGKILL);
    while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
  }
  for (int* fd : {&in_, &out_fd_, &err_fd_}) close_fd(*fd);
}

void Child::close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

void Child::poll_fds(std::vector<pollfd>& out) const {
  if (in_ >= 0) out.push_back({in_, POLLOUT, 0});
  if (out_fd_ >= 0) out.push_back({out_fd_, POLLIN, 0});
  if (err_fd_ >= 0) out.push_back({err_fd_, POLLIN, 0});
}

void Child::service() {
  while (in_ >= 0 && written_ < input_.size()) {
    const ssize_t n = ::write(in_, input_.data() + written_, input_.size() - written_);
    if (n > 0) {
      written_ += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      // EAGAIN: the pipe is full, later. EPIPE: the command does not read
      // its stdin, which is its business.
      if (n < 0 && errno == EAGAIN) return service_outputs();
      close_fd(in_);
    }
  }
  if (in_ >= 0 && written_ == input_.size()) close_fd(in_);  // EOF for the command
  service_outputs();
}

void Child::service_outputs() {
  read_from(out_fd_, true);
  read_from(err_fd_, false);
}

void Child::read_from(int& fd, bool is_out) {
  char buf[65536];
  while (fd >= 0) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) return close_fd(fd);  // EOF (or an error: nothing more to read)
    const auto len = static_cast<std::size_t>(n);
    if (is_out) {
      // Past the bound, the rest is read and dropped: the command is never
      // stalled on a full pipe, and memory stays bounded.
      const std::size_t room = max_out_ - std::min(max_out_, out_.size());
      out_.append(buf, std::min(room, len));
      if (len > room) overflowed_ = true;
    } else {
      err_.append(buf, len);
      if (err_.size() > 2 * err_tail_) err_.erase(0, err_.size() - err_tail_);  // amortised trim
    }
  }
}

std::string Child::err() const { return err_.size() > err_tail_ ? err_.substr(err_.size() - err_tail_) : err_; }

bool Child::reap() {
  if (reaped_) return true;
  const pid_t r = ::waitpid(pid_, &status_, WNOHANG);
  if (r == 0 || (r < 0 && errno == EINTR)) return false;
  // Any other error (ECHILD: someone else reaped it) leaves no status to
  // trust: a failure, never a clean exit that would ack the job a success.
  if (r < 0) status_ = W_EXITCODE(127, 0);
  reaped_ = true;
  // Whatever it wrote before it exited is in the pipes now.
  close_fd(in_);
  service_outputs();
  close_fd(out_fd_);
  close_fd(err_fd_);
  return true;
}

void Child::signal(int sig) const {
  if (pid_ > 0 && !reaped_) ::kill(-pid_, sig);
}

}  // namespace ledgerq::cli
