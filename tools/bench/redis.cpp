#include "redis.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>

#include <stdexcept>
#include <thread>

#include "bench.hpp"

namespace ledgerq::bench {

RedisConn::RedisConn(int port) : c_(redisConnect("127.0.0.1", port)) {
  if (!c_) throw std::runtime_error("redis: out of memory");
  if (c_->err) {
    const std::string why = c_->errstr;
    redisFree(c_);
    throw std::runtime_error("redis: cannot connect to port " + std::to_string(port) + ": " + why);
  }
}

RedisConn::~RedisConn() {
  ahead_.reset();
  redisFree(c_);
}

void RedisConn::FreeReply::operator()(redisReply* r) const { freeReplyObject(r); }

void RedisConn::append(std::initializer_list<std::string_view> args) {
  append(std::vector<std::string_view>(args));
}

void RedisConn::append(const std::vector<std::string_view>& args) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (auto a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  if (redisAppendCommandArgv(c_, static_cast<int>(argv.size()), argv.data(), lens.data()) != REDIS_OK)
    throw std::runtime_error(std::string("redis: ") + c_->errstr);
}

void RedisConn::send() {
  // redisGetReply writes what is queued only when no reply is buffered yet:
  // writing here puts a refill on the wire at once, as BeanstalkConn::send.
  int done = 0;
  while (!done)
    if (redisBufferWrite(c_, &done) != REDIS_OK) throw std::runtime_error(std::string("redis: ") + c_->errstr);
}

RedisConn::Reply RedisConn::next(const char* what) {
  Reply r = std::move(ahead_);
  if (!r) {
    void* raw = nullptr;
    if (redisGetReply(c_, &raw) != REDIS_OK)
      throw std::runtime_error(std::string("redis: ") + what + ": " + c_->errstr);
    r.reset(static_cast<redisReply*>(raw));
  }
  if (r->type == REDIS_REPLY_ERROR)
    throw std::runtime_error(std::string("redis: ") + what + " answered " + std::string(r->str, r->len));
  return r;
}

long long RedisConn::read_integer() {
  Reply r = next("a command expecting an integer");
  if (r->type != REDIS_REPLY_INTEGER) throw std::runtime_error("redis: expected an integer reply");
  return r->integer;
}

std::optional<std::string> RedisConn::read_bulk() {
  Reply r = next("a command expecting a string");
  if (r->type == REDIS_REPLY_NIL) return std::nullopt;
  if (r->type != REDIS_REPLY_STRING) throw std::runtime_error("redis: expected a string reply");
  return std::string(r->str, r->len);
}

std::string RedisConn::read_status() {
  Reply r = next("a command expecting a status");
  if (r->type != REDIS_REPLY_STATUS) throw std::runtime_error("redis: expected a status reply");
  return std::string(r->str, r->len);
}

bool RedisConn::readable(int timeout_ms) {
  if (!ahead_) {
    // A reply may already sit in hiredis's buffer, where poll() cannot see it.
    void* raw = nullptr;
    if (redisGetReplyFromReader(c_, &raw) != REDIS_OK) throw std::runtime_error(std::string("redis: ") + c_->errstr);
    ahead_.reset(static_cast<redisReply*>(raw));
  }
  if (ahead_) return true;
  pollfd p{c_->fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) > 0;
}

// ---- the server process ----

RedisProcess::RedisProcess(const std::string& path, const std::filesystem::path& dir, bool aof) {
  std::filesystem::create_directories(dir);
  port_ = free_port();
  std::vector<std::string> args = {path, "--port", std::to_string(port_), "--bind", "127.0.0.1", "--dir", dir.string(),
                                   "--logfile", (dir / "redis.log").string(), "--daemonize", "no", "--save", ""};
  if (aof)
    args.insert(args.end(), {"--appendonly", "yes", "--appendfsync", "always"});
  else
    args.insert(args.end(), {"--appendonly", "no"});
  process_ = std::make_unique<tools::ChildProcess>(args);
  // Ready once PING is answered PONG: while it loads its append-only file,
  // Redis accepts connections and answers -LOADING.
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (Clock::now() < deadline) {
    if (process_->exited())
      throw std::runtime_error("redis-server exited at start (its log: " + (dir / "redis.log").string() + ")");
    try {
      RedisConn c(port_);
      c.append({"PING"});
      c.send();
      if (c.read_status() == "PONG") return;
    } catch (const std::runtime_error&) {
      // not listening yet, or still loading
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  throw std::runtime_error("redis-server did not start");
}

}  // namespace ledgerq::bench
