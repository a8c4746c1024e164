// A minimal Redis client over hiredis (one blocking connection) and the
// redis-server the bench starts. Commands may be pipelined, as the
// beanstalkd client does: queue several with append(), send() them in one
// write, then read the replies in order. Error replies and a closed
// connection throw std::runtime_error with Redis's words. One thread per
// connection (a hiredis context is not thread-safe).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker_process.hpp"  // tools/common: ChildProcess

struct redisContext;  // hiredis's, kept out of the callers' view
struct redisReply;

namespace ledgerq::bench {

class RedisConn {
 public:
  /// Connects to 127.0.0.1:port (hiredis sets TCP_NODELAY); throws if refused.
  explicit RedisConn(int port);
  ~RedisConn();
  RedisConn(const RedisConn&) = delete;
  RedisConn& operator=(const RedisConn&) = delete;

  /// Queues one command, its arguments binary-safe (copied at once).
  void append(std::initializer_list<std::string_view> args);
  void append(const std::vector<std::string_view>& args);
  /// Writes every queued command.
  void send();

  // Replies, in the order the commands were sent; any other type throws.
  long long read_integer();                ///< :N (LPUSH, LREM)
  std::optional<std::string> read_bulk();  ///< $N + bytes; nullopt for nil (an empty list's LMOVE, a timed-out BLMOVE)
  std::string read_status();               ///< +TEXT (PING's PONG)
  /// True when a reply can be read without blocking for more than timeout_ms.
  bool readable(int timeout_ms);

 private:
  struct FreeReply {
    void operator()(redisReply* r) const;
  };
  using Reply = std::unique_ptr<redisReply, FreeReply>;
  Reply next(const char* what);  ///< the next reply; throws on an error reply

  redisContext* c_ = nullptr;
  Reply ahead_;  ///< a reply readable() took out of hiredis's buffer before its turn
};

/// redis-server started by the bench on a free loopback port, its working
/// directory (and log, redis.log) in `dir`, never snapshotting (--save "").
/// With `aof`: --appendonly yes --appendfsync always, so each reply leaves
/// after the write it answers is fsynced (one fsync per event-loop turn,
/// shared by every command of that turn); without: memory only. Ready once
/// it answers PING with PONG, which after a restart is once it has loaded
/// its append-only file.
class RedisProcess {
 public:
  RedisProcess(const std::string& path, const std::filesystem::path& dir, bool aof);
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;
  void terminate() { process_->terminate(); }  ///< SIGTERM (Redis fsyncs its AOF and exits) and reap
  pid_t pid() const { return process_->pid(); }
  int port() const { return port_; }

 private:
  std::unique_ptr<tools::ChildProcess> process_;
  int port_ = 0;
};

}  // namespace ledgerq::bench
