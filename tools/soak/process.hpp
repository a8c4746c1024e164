// The processes a soak runs: a Child (any fork/exec'd program, its output
// in a file) and the Broker under test, which is SIGKILLed and started
// again on the same data directory and the same endpoints.
//
// Thread rules: one thread (the soak's main thread) owns these objects.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ledgerq::soak {

/// A child process. Its stdout and stderr are appended to one file, so a
/// sanitizer's report or a crash message is kept beside its log.
/// Move-only; the destructor SIGKILLs and reaps it if it still runs.
class Child {
 public:
  Child() = default;
  /// fork + exec of argv[0] with argv. Throws std::runtime_error when the
  /// file cannot be opened or fork fails (an exec that fails exits 127).
  Child(const std::vector<std::string>& argv, const std::filesystem::path& output);
  ~Child();
  Child(Child&& o) noexcept : pid_(o.pid_) { o.pid_ = -1; }
  Child& operator=(Child&& o) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] bool running() const { return pid_ > 0; }
  /// If it has ended, reaps it and returns its status (exit code, or
  /// -signal); nullopt while it runs or after it was reaped. Never blocks.
  std::optional<int> poll();
  /// SIGKILL and reap: no chance to flush or clean up, like a power cut to
  /// the process. No-op when it is not running.
  void kill9();
  /// SIGTERM; waits up to `limit`, then SIGKILLs. Returns the exit status
  /// (or -signal; -9 when it had to be killed).
  int terminate(std::chrono::milliseconds limit);

 private:
  pid_t pid_ = -1;
};

/// The status as the shell reads it: "exit 3", "signal 9".
std::string describe_status(int status);

/// The broker's three endpoints, as its ready line names them.
struct Endpoints {
  std::string router, status_pub, requests_pub;
};

/// The broker could not be started: it exited (status set) or stayed silent.
struct StartError : std::runtime_error {
  StartError(const std::string& what, std::optional<int> status)
      : std::runtime_error(what), exit_status(status) {}
  std::optional<int> exit_status;  ///< nullopt: it did not answer in time (then it was killed)
};

/// The broker under test. The first start binds free loopback ports
/// (`tcp://127.0.0.1:*`, read back from the ready line: no race for a port
/// between choosing and binding it); every later start names those ports,
/// so clients reconnect to the same addresses. Each start's output goes to
/// `log_dir`/broker-N.log.
class Broker {
 public:
  /// `flags`: extra broker flags (sync, retention, log level).
  Broker(std::string path, std::filesystem::path data, std::filesystem::path log_dir,
         std::vector<std::string> flags);

  /// Starts it and waits (up to `limit`) for its ready line. Throws
  /// StartError. Must not be running.
  void start(std::chrono::milliseconds limit);
  void kill9() { child_.kill9(); }
  /// SIGTERM and wait (bounded); returns its exit status (0: clean).
  int terminate() { return child_.terminate(std::chrono::seconds(60)); }
  /// Its status if it ended on its own (see Child::poll).
  std::optional<int> poll() { return child_.poll(); }
  [[nodiscard]] bool running() const { return child_.running(); }

  [[nodiscard]] const Endpoints& endpoints() const { return endpoints_; }
  /// How many times it was started.
  [[nodiscard]] int starts() const { return starts_; }
  /// The log of the latest start.
  [[nodiscard]] std::filesystem::path log_path() const;

 private:
  std::string path_;
  std::filesystem::path data_, log_dir_;
  std::vector<std::string> flags_;
  Child child_;
  Endpoints endpoints_;
  int starts_ = 0;
};

/// The last `max_bytes` of a file, for a failure message.
std::string tail_of(const std::filesystem::path& file, std::size_t max_bytes = 2000);

}  // namespace ledgerq::soak
