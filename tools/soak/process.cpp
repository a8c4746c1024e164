#include "process.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace ledgerq::soak {

namespace {

int decode_status(int raw) { return WIFEXITED(raw) ? WEXITSTATUS(raw) : -WTERMSIG(raw); }

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The value of `key` in the ready line ("router=tcp://...").
std::string field(const std::string& line, const std::string& key) {
  auto at = line.find(key);
  if (at == std::string::npos) throw StartError("no " + key + " in the ready line: " + line, std::nullopt);
  at += key.size();
  return line.substr(at, line.find(' ', at) - at);
}

}  // namespace

Child::Child(const std::vector<std::string>& args, const std::filesystem::path& output) {
  // Everything the child needs is made before fork: after it, in a process
  // with threads (zmq's, the producers'), only async-signal-safe calls are.
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + output.string());
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(fd);
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {
    // Its own process group: a Ctrl-C meant for the soak (which then
    // drains and checks) must not stop the broker or the workers. And it
    // dies with the soak, so that a soak killed by a CI timeout leaves no
    // broker behind.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fd);
}

Child::~Child() { kill9(); }

Child& Child::operator=(Child&& o) noexcept {
  if (this != &o) {
    kill9();
    pid_ = o.pid_;
    o.pid_ = -1;
  }
  return *this;
}

std::optional<int> Child::poll() {
  if (pid_ <= 0) return std::nullopt;
  int raw = 0;
  if (::waitpid(pid_, &raw, WNOHANG) != pid_) return std::nullopt;
  pid_ = -1;
  return decode_status(raw);
}

void Child::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int Child::terminate(std::chrono::milliseconds limit) {
  if (pid_ <= 0) return 0;
  ::kill(pid_, SIGTERM);
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (auto s = poll()) return *s;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill9();
  return -SIGKILL;
}

std::string describe_status(int status) {
  return status >= 0 ? "exit " + std::to_string(status) : "signal " + std::to_string(-status);
}

Broker::Broker(std::string path, std::filesystem::path data, std::filesystem::path log_dir,
               std::vector<std::string> flags)
    : path_(std::move(path)), data_(std::move(data)), log_dir_(std::move(log_dir)), flags_(std::move(flags)) {
  endpoints_ = {"tcp://127.0.0.1:*", "tcp://127.0.0.1:*", "tcp://127.0.0.1:*"};
}

std::filesystem::path Broker::log_path() const {
  return log_dir_ / ("broker-" + std::to_string(starts_) + ".log");
}

void Broker::start(std::chrono::milliseconds limit) {
  ++starts_;
  std::vector<std::string> args = {path_,           "--data",         data_.string(),
                                   "--router",      endpoints_.router, "--status-pub",
                                   endpoints_.status_pub, "--requests-pub", endpoints_.requests_pub};
  args.insert(args.end(), flags_.begin(), flags_.end());
  const auto log = log_path();
  child_ = Child(args, log);
  // The ready line goes to stdout, which is the log file: read it back from
  // there (a pipe nobody drains after the line could fill and stall it).
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    const std::string text = read_file(log);
    const auto at = text.find("ledgerq-broker ready:");
    if (at != std::string::npos && text.find('\n', at) != std::string::npos) {
      const std::string line = text.substr(at, text.find('\n', at) - at);
      endpoints_ = {field(line, "router="), field(line, "status="), field(line, "requests=")};
      return;
    }
    if (auto s = child_.poll())
      throw StartError("the broker " + describe_status(*s) + " at start:\n" + tail_of(log), s);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  child_.kill9();
  throw StartError("the broker printed no ready line in time:\n" + tail_of(log), std::nullopt);
}

std::string tail_of(const std::filesystem::path& file, std::size_t max_bytes) {
  const std::string text = read_file(file);
  return text.size() <= max_bytes ? text : "..." + text.substr(text.size() - max_bytes);
}

}  // namespace ledgerq::soak
