// The small shared helpers of bench.hpp.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "bench.hpp"

namespace ledgerq::bench {

Memory memory_of(pid_t pid) {
  Memory m;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    std::istringstream s(line);
    std::string key;
    double kib = 0;
    s >> key >> kib;
    if (key == "VmRSS:") m.rss_mib = kib / 1024;
    if (key == "VmHWM:") m.peak_mib = kib / 1024;
  }
  // The Rss of the data.mdb mapping: LMDB's pages, which the kernel may drop
  // at will; the rest of RSS is the process's own heap and stacks.
  std::ifstream smaps("/proc/" + std::to_string(pid) + "/smaps");
  bool in_map = false;
  for (std::string line; std::getline(smaps, line);) {
    if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) && line.find('-') < 17) {
      in_map = line.ends_with("data.mdb");
    } else if (in_map && line.starts_with("Rss:")) {
      std::istringstream s(line.substr(4));
      double kib = 0;
      s >> kib;
      m.map_mib += kib / 1024;
    }
  }
  return m;
}

void measure_rounds(const std::function<DequeueRates(std::size_t jobs)>& near_empty_take,
                    const std::function<DequeueRates(std::size_t jobs)>& with_backlog_take, std::size_t jobs,
                    std::size_t rounds, Backlog& out) {
  std::vector<DequeueRates> near_empty, with_backlog;
  // Whichever server goes second in a round meets what the first left
  // behind (its writeback, a colder cache): alternate, so that neither
  // side of the ratio always pays it.
  for (std::size_t i = 0; i < rounds; ++i) {
    if (i % 2 == 0) {
      near_empty.push_back(near_empty_take(jobs));
      with_backlog.push_back(with_backlog_take(jobs));
    } else {
      with_backlog.push_back(with_backlog_take(jobs));
      near_empty.push_back(near_empty_take(jobs));
    }
  }
  auto median = [](std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    const std::size_t m = v.size() / 2;
    return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
  };
  for (double DequeueRates::*rate : {&DequeueRates::one, &DequeueRates::hundred}) {
    std::vector<double> ne, bl, ratio;
    for (std::size_t i = 0; i < near_empty.size() && i < with_backlog.size(); ++i) {
      ne.push_back(near_empty[i].*rate);
      bl.push_back(with_backlog[i].*rate);
      if (near_empty[i].*rate > 0) ratio.push_back(with_backlog[i].*rate / (near_empty[i].*rate));
    }
    out.near_empty.*rate = median(ne);
    out.with_backlog.*rate = median(bl);
    out.ratio.*rate = median(ratio);
  }
}

Latency percentiles(std::vector<double> ms) {
  Latency l;
  l.samples = ms.size();
  if (ms.empty()) return l;
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(ms.size()))) ;
    return ms[std::min(ms.size() - 1, i == 0 ? 0 : i - 1)];
  };
  l.p50_ms = at(0.50);
  l.p99_ms = at(0.99);
  l.p999_ms = at(0.999);
  return l;
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

std::string stamped_body(std::int64_t stamp) {
  char head[32];
  int n = std::snprintf(head, sizeof head, "%020lld", static_cast<long long>(stamp));
  std::string body(head, static_cast<std::size_t>(n));
  body.resize(kBodyBytes, 'x');
  return body;
}

std::int64_t stamp_of(std::string_view body) {
  if (body.size() < 20) throw std::runtime_error("a body without a stamp");
  return std::stoll(std::string(body.substr(0, 20)));
}

int connect_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

int bind_loopback(int& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  port = ntohs(a.sin_port);
  return fd;
}

int free_port() {
  int port = 0;
  ::close(bind_loopback(port));
  return port;
}

void send_all(int fd, std::string_view bytes, const char* what) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string(what) + ": send failed: " + std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string find_program(const std::string& name) {
  if (const char* p = std::getenv("PATH")) {
    std::string_view rest(p);
    while (!rest.empty()) {
      auto colon = rest.find(':');
      std::filesystem::path candidate = std::filesystem::path(rest.substr(0, colon)) / name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  for (const char* dir : {"/usr/bin/", "/usr/local/bin/"})
    if (::access((dir + name).c_str(), X_OK) == 0) return dir + name;
  return {};
}

namespace {

/// utime + stime + cutime + cstime of `pid`, in seconds; 0 if it is gone.
double cpu_seconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto close = all.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return 0;
  std::istringstream rest(all.substr(close + 1));
  std::string field;
  double ticks = 0;
  // After the name: state (field 3) ... utime, stime, cutime, cstime (14-17).
  for (int i = 3; i <= 17 && rest >> field; ++i)
    if (i >= 14) ticks += std::stod(field);
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

/// The stat file of the whole disk holding `dir` (the nearest existing
/// ancestor of it) and the disk's name; or no file, and why there is none.
std::pair<std::filesystem::path, std::string> disk_stat_of(std::filesystem::path dir) {
  std::error_code ec;
  while (!std::filesystem::exists(dir, ec) && dir.has_parent_path() && dir != dir.parent_path())
    dir = dir.parent_path();
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return {{}, "cannot stat " + dir.string()};
  const std::string dev = std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
  auto sys = std::filesystem::canonical("/sys/dev/block/" + dev, ec);
  if (ec) return {{}, "device " + dev + " is no block device (overlay, tmpfs?)"};
  if (std::filesystem::exists(sys / "partition")) sys = sys.parent_path();  // flushes go to the disk
  return {sys / "stat", sys.filename().string()};
}

/// Field `n` (from 1) of a disk's stat file; nullopt when absent.
std::optional<std::uint64_t> stat_field(const std::filesystem::path& stat_file, std::size_t n) {
  std::ifstream f(stat_file);
  std::vector<std::uint64_t> fields;
  for (std::uint64_t v; f >> v;) fields.push_back(v);
  if (fields.size() < n) return std::nullopt;
  return fields[n - 1];
}

/// Field 16 of a disk's stat file: flush requests completed (kernels >= 5.5;
/// older ones have fewer fields). nullopt when absent.
std::optional<std::uint64_t> flushes_of(const std::filesystem::path& stat_file) {
  if (!stat_field(stat_file, 17)) return std::nullopt;
  return stat_field(stat_file, 16);
}

}  // namespace

std::optional<std::uint64_t> disk_writes(const std::filesystem::path& dir) {
  auto [stat_file, why] = disk_stat_of(dir);
  if (stat_file.empty()) return std::nullopt;
  return stat_field(stat_file, 5);
}

CostMeter::CostMeter(pid_t pid, const std::filesystem::path& dir) : pid_(pid) {
  auto [stat_file, why] = disk_stat_of(dir);
  // A disk that has completed no flush since boot drops them (no volatile
  // cache) or does not count them: "none", not a false 0.
  if (auto n = flushes_of(stat_file); n && *n > 0) {
    disk_stat_ = stat_file;
    flushes_ = *n;
  }
  cpu_s_ = cpu_seconds(pid_);
}

ServerCost CostMeter::per_job(std::size_t jobs) const {
  ServerCost c;
  if (jobs == 0) return c;
  const double n = static_cast<double>(jobs);
  c.cpu_us = (cpu_seconds(pid_) - cpu_s_) * 1e6 / n;
  if (!disk_stat_.empty())
    if (auto now = flushes_of(disk_stat_)) c.flushes = static_cast<double>(*now - flushes_) / n;
  return c;
}

std::string CostMeter::disk_of(const std::filesystem::path& dir) {
  auto [stat_file, why] = disk_stat_of(dir);
  if (stat_file.empty()) return why;
  auto n = flushes_of(stat_file);
  if (!n) return why + " (its stat has no flush count: kernel < 5.5)";
  if (*n == 0) return why + " (it has completed no flush since boot: none counted)";
  return why;
}

}  // namespace ledgerq::bench
