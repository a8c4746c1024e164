// A minimal beanstalkd client, spoken directly over TCP (doc/protocol.txt):
// put, reserve-with-timeout, delete, use, watch. Commands may be pipelined:
// queue several with the append_* helpers, send() them in one write, then
// read the replies in order. Errors (an unexpected reply, a closed socket)
// throw std::runtime_error with the reply. One thread per connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ledgerq::bench {

class BeanstalkConn {
 public:
  struct Job {
    std::uint64_t id = 0;
    std::string body;
  };

  /// Connects to 127.0.0.1:port (TCP_NODELAY: every command is one small write).
  explicit BeanstalkConn(int port);
  ~BeanstalkConn();
  BeanstalkConn(const BeanstalkConn&) = delete;
  BeanstalkConn& operator=(const BeanstalkConn&) = delete;

  // Pipelining: append commands to `out`, then send(out).
  static void append_put(std::string& out, std::string_view body);  ///< pri 1024, delay 0, ttr 60
  static void append_reserve(std::string& out, int timeout_s);
  static void append_delete(std::string& out, std::uint64_t id);
  void send(std::string_view bytes);

  // Replies, in the order the commands were sent.
  std::uint64_t read_inserted();             ///< INSERTED <id>
  std::optional<Job> read_reserved();        ///< RESERVED <id> <n> + body; nullopt on TIMED_OUT
  void read_deleted();                       ///< DELETED
  /// True when a reply can be read without blocking for more than timeout_ms.
  bool readable(int timeout_ms);

  // One command, one reply.
  std::uint64_t put(std::string_view body);
  std::optional<Job> reserve(int timeout_s);
  void remove(std::uint64_t id);
  void use(std::string_view tube);
  void watch(std::string_view tube);

 private:
  std::string read_line();
  void fill();  ///< one read() into the buffer; throws on EOF
  int fd_ = -1;
  std::string in_;
  std::size_t pos_ = 0;
};

}  // namespace ledgerq::bench
