// ledgerq-web: the operator's dashboard and Prometheus /metrics of a ledgerq
// broker, in one process that talks to the broker through its protocol like
// any other tool (README.md in this folder).
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "codec/time_text.hpp"
#include "server.hpp"
#include <ledgerq/error.hpp>

namespace ledgerq::web {
namespace {

int run(int argc, char** argv) {
  std::string listen = "127.0.0.1:8080", router = "tcp://127.0.0.1:5555", server_key, secret_key, auth_file,
              timeout = "3s";
  bool insecure = false, read_only = false;

  CLI::App app{"ledgerq-web: the dashboard and Prometheus metrics of a ledgerq broker", "ledgerq-web"};
  app.set_version_flag("--version", std::string("ledgerq-web ") + LEDGERQ_RELEASE);
  app.add_option("--listen", listen, "HTTP address to serve on, HOST:PORT (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--router", router, "the broker's ROUTER endpoint")->envname("LEDGERQ_ROUTER")->capture_default_str();
  app.add_option("--server-key", server_key, "a secure broker's public key: its .pub file or the Z85 text")
      ->envname("LEDGERQ_SERVER_KEY");
  app.add_option("--secret-key", secret_key, "this dashboard's .secret key file (a reader or admin principal)")
      ->envname("LEDGERQ_SECRET_KEY_FILE");
  app.add_option("--timeout", timeout, "the wait for one broker reply (e.g. 500ms, 3s)")->capture_default_str();
  app.add_option("--auth-file", auth_file, "require HTTP Basic auth by the user:password lines of this file (mode 0600)");
  app.add_flag("--insecure", insecure, "allow a non-loopback --listen without --auth-file: anyone who reaches it "
                                       "can act as the broker principal of this dashboard");
  app.add_flag("--read-only", read_only, "serve the figures and jobs only: no pause, retry, cancel or delete");
  CLI11_PARSE(app, argc, argv);

  try {
    ServerOptions o;
    o.listen = parse_listen(listen);
    o.read_only = read_only;
    o.broker.router = router;
    const auto t = codec::parse_duration(timeout);
    if (!t || *t < 1000) throw ConfigError("--timeout '" + timeout + "': expected a duration of at least 1ms");
    o.broker.reply_timeout = std::chrono::milliseconds(*t / 1000);
    if (!server_key.empty() || !secret_key.empty()) {
      if (server_key.empty() || secret_key.empty())
        throw ConfigError("--server-key and --secret-key go together (or LEDGERQ_SERVER_KEY and LEDGERQ_SECRET_KEY_FILE)");
      try {
        o.broker.credentials = client::Credentials::from_files(server_key, secret_key);
      } catch (const client::Error& e) {
        throw ConfigError(e.what());
      }
    }
    if (!auth_file.empty()) o.auth = BasicAuth::from_file(auth_file);
    // As the broker does for plain mode (PROTOCOL.md §14): whoever reaches
    // the page may use its actions, so only this machine, unless a password
    // is asked or the operator says so explicitly.
    if (!is_loopback(o.listen.host) && !o.auth) {
      if (!insecure)
        throw ConfigError("--listen " + listen + " is reachable from other machines: give --auth-file, or --insecure "
                          "if something in front of it controls access");
      std::cerr << "ledgerq-web: warning: --insecure: serving " << listen
                << " without authentication; anyone who reaches it can act on the broker\n";
    }

    // SIGINT and SIGTERM end the server cleanly; blocked here, before any
    // thread starts, so that only the waiting thread receives them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    Server server(std::move(o));
    const int port = server.bind();
    const std::string host = listen.substr(0, listen.rfind(':'));
    std::printf("ledgerq-web ready: http://%s:%d router=%s%s\n", host.c_str(), port, router.c_str(),
                read_only ? " read-only" : "");
    std::fflush(stdout);
    // The waiter looks up every 200 ms, so that it also ends when run()
    // returned on its own (a failed listen) without being sent a signal.
    // A signal that arrives before run() serves is consumed here all the
    // same, so the stop is repeated until run() takes it: otherwise run()
    // would serve forever with SIGINT and SIGTERM blocked.
    std::atomic<bool> done{false};
    std::thread waiter([&] {
      const timespec tick{0, 200'000'000};
      while (!done) {
        if (sigtimedwait(&signals, nullptr, &tick) > 0) {
          while (!done && !server.stop()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
          return;
        }
      }
    });
    server.run();
    done = true;
    waiter.join();
    return 0;
  } catch (const ConfigError& e) {
    std::cerr << "ledgerq-web: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "ledgerq-web: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace
}  // namespace ledgerq::web

int main(int argc, char** argv) { return ledgerq::web::run(argc, argv); }
