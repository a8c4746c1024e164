// ledgerq-web's HTTP server (server.hpp).
#include "server.hpp"

#include <httplib.h>

#include <iostream>

#include "assets.hpp"
#include "metrics.hpp"

namespace ledgerq::web {

using tools::json;

namespace {

// A request body is at most a small JSON object (an action's fields).
constexpr std::size_t kMaxBody = 64 * 1024;

std::string_view content_type(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  return "application/octet-stream";
}

// The fields of a command the broker answered 200, or nullopt.
std::optional<json> try_call(BrokerPool& broker, std::string_view command) {
  try {
    const tools::Answer a = broker.call(command, json::object());
    if (a.code == 200) return a.fields;
  } catch (const tools::CallError&) {
  }
  return std::nullopt;
}

}  // namespace

Server::Server(ServerOptions options)
    : options_(std::move(options)), broker_(options_.broker), http_(std::make_unique<httplib::Server>()) {
  auto& http = *http_;
  http.set_payload_max_length(kMaxBody);
  // The page runs only its own files: no inline script, nothing from
  // elsewhere, not framed by another site.
  http.set_default_headers({{"Content-Security-Policy",
                             "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                             "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
                            {"X-Content-Type-Options", "nosniff"},
                            {"Referrer-Policy", "no-referrer"},
                            {"Cache-Control", "no-store"}});

  // Every request passes the Host check and, with --auth-file, Basic auth,
  // before any route runs; all but /healthz, which says only that this
  // process serves, so that a liveness probe needs no password.
  const bool any_host = options_.auth.has_value() || !is_loopback(options_.listen.host);
  http.set_pre_routing_handler([this, any_host](const httplib::Request& req, httplib::Response& res) {
    if (!host_allowed(req.get_header_value("Host"), options_.listen, any_host)) {
      res.status = 403;
      res.set_content("forbidden: unexpected Host header\n", "text/plain");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (options_.auth && req.path != "/healthz" && !options_.auth->allows(req.get_header_value("Authorization"))) {
      res.status = 401;
      res.set_header("WWW-Authenticate", "Basic realm=\"ledgerq\", charset=\"UTF-8\"");
      res.set_content("authentication required\n", "text/plain");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content("internal error\n", "text/plain");
  });

  for (const Asset& a : kAssets) {
    const std::string path = a.name == "index.html" ? "/" : "/" + std::string(a.name);
    http.Get(path, [&a](const httplib::Request&, httplib::Response& res) {
      res.set_content(a.data.data(), a.data.size(), std::string(content_type(a.name)).c_str());
    });
  }
  // Browsers ask for it on their own; the page has none.
  http.Get("/favicon.ico", [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
  http.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    // This process is serving; the broker's state is ledgerq_up on /metrics
    // (a dashboard should not be restarted because its broker is down).
    res.set_content("ok\n", "text/plain");
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    const auto stats = try_call(broker_, "stats");
    const auto list = stats ? try_call(broker_, "ds_list") : std::nullopt;
    res.set_content(render_metrics(stats, list), std::string(kMetricsContentType).c_str());
  });
  add_api_routes(http, broker_, options_.read_only);
}

Server::~Server() = default;

int Server::bind() {
  const std::string& host = options_.listen.host;
  int port = options_.listen.port;
  const bool bound = port == 0 ? (port = http_->bind_to_any_port(host)) > 0 : http_->bind_to_port(host, port);
  if (!bound)
    throw ConfigError("--listen " + host + ":" + std::to_string(options_.listen.port) +
                      ": cannot listen there (in use, or not an address of this machine?)");
  options_.listen.port = static_cast<std::uint16_t>(port);
  return port;
}

void Server::run() { http_->listen_after_bind(); }

bool Server::stop() {
  // Once running, one stop() is enough: a second one, while the listen loop
  // drains its requests, would find the socket already closed.
  if (!http_->is_running()) return false;
  http_->stop();
  return true;
}

}  // namespace ledgerq::web
