// ledgerq-web's HTTP server: the dashboard's files, its JSON API, /metrics
// and /healthz, behind the access rules of access.hpp.
#pragma once

#include <memory>
#include <optional>

#include "access.hpp"
#include "api.hpp"

namespace httplib {
class Server;
}

namespace ledgerq::web {

struct ServerOptions {
  ListenAddress listen;
  tools::BrokerAddress broker;
  std::optional<BasicAuth> auth;  ///< --auth-file: every request needs one of its users
  bool read_only = false;         ///< --read-only: no actions
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  /// Binds the listen address; returns the port (the one chosen, for port
  /// 0). Throws ConfigError when it cannot bind.
  int bind();
  /// Serves until stop(); call after bind().
  void run();
  /// Thread-safe. Ends run() (it returns soon after) and returns true, or
  /// returns false and does nothing while run() has not started serving
  /// yet: httplib's stop() only acts once its listen loop runs, so a caller
  /// that must not lose a stop asks again until this returns true.
  [[nodiscard]] bool stop();

 private:
  ServerOptions options_;
  BrokerPool broker_;
  std::unique_ptr<httplib::Server> http_;
};

}  // namespace ledgerq::web
