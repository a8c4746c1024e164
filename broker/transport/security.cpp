#include "security.hpp"

#include <spdlog/spdlog.h>

#include <cctype>
#include <vector>

#include "eintr.hpp"

namespace ledgerq::transport {
namespace {

constexpr auto kZapEndpoint = "inproc://zeromq.zap.01";  // fixed by RFC 27/ZAP
constexpr auto kDomain = "ledgerq";
constexpr auto kLogRefusedEvery = std::chrono::minutes(1);
constexpr std::size_t kRefusedRemembered = 4096;

std::string_view host_of(std::string_view endpoint) {
  endpoint.remove_prefix(6);  // "tcp://"
  const auto colon = endpoint.rfind(':');
  std::string_view host = endpoint.substr(0, colon);
  if (const auto semi = host.find(';'); semi != std::string_view::npos) host = host.substr(semi + 1);  // src;dst
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return host;
}

// The blank-separated fields of a line.
std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    const std::size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}
}  // namespace

Principals parse_principals(std::string_view text, std::string_view origin) {
  Principals out;
  std::map<std::string, domain::Principal, std::less<>> by_name;  // a name's keys must agree
  for (const auto& [number, line] : keys::content_lines(text)) {
    const std::string where = std::string(origin) + ":" + std::to_string(number) + ": ";
    const auto f = fields(line);
    if (f.size() < 3) throw keys::KeyError(where + "expected '<public key> <role> <name> [datasources...]'");
    if (!keys::is_key(f[0])) throw keys::KeyError(where + "'" + std::string(f[0]) + "' is not a Z85 public key (40 characters)");
    auto role = domain::parse_role(f[1]);
    if (!role) throw keys::KeyError(where + "unknown role '" + std::string(f[1]) + "' (client, worker, reader, admin)");
    domain::Principal p{std::string(f[2]), *role, {}};
    if (auto why = domain::check_principal_name(p.name)) throw keys::KeyError(where + *why);
    if (*role == domain::Role::worker) {
      if (f.size() < 4) throw keys::KeyError(where + "a worker names the datasources it serves (names, prefix*, or *)");
      for (std::size_t i = 3; i < f.size(); ++i) {
        if (auto why = domain::check_ds_pattern(f[i])) throw keys::KeyError(where + *why);
        p.datasources.emplace_back(f[i]);
      }
    } else if (f.size() > 3) {
      throw keys::KeyError(where + "only a worker lists datasources");
    }
    if (auto [it, fresh] = by_name.emplace(p.name, p); !fresh &&
        (it->second.role != p.role || it->second.datasources != p.datasources))
      throw keys::KeyError(where + "'" + p.name + "' appears before with another role or datasources");
    if (!out.emplace(std::string(f[0]), std::make_shared<const domain::Principal>(std::move(p))).second)
      throw keys::KeyError(where + "this key appears twice");
  }
  return out;
}

Principals load_principals(const std::filesystem::path& file) {
  return parse_principals(keys::read_text(file), file.string());
}

bool is_local_endpoint(std::string_view ep) {
  if (ep.starts_with("ipc://") || ep.starts_with("inproc://")) return true;
  if (!ep.starts_with("tcp://")) return false;
  const std::string_view host = host_of(ep);
  return host.starts_with("127.") || host == "localhost" || host == "::1" || host == "lo";
}

Gate::Gate(zmq::context_t& ctx, SecurityOptions opts)
    : opts_(std::move(opts)),
      principals_(std::make_shared<const Principals>(load_principals(opts_.principals))),
      zap_(ctx, zmq::socket_type::rep) {
  zap_.set(zmq::sockopt::linger, 0);
  zap_.bind(kZapEndpoint);
}

void Gate::secure(zmq::socket_t& s) const {
  s.set(zmq::sockopt::curve_server, 1);
  s.set(zmq::sockopt::curve_secretkey, opts_.server.secret_z85);
  // With a domain set, every handshake asks the ZAP handler; its 400 for
  // an unknown key closes the connection before any message passes.
  s.set(zmq::sockopt::zap_domain, kDomain);
}

void Gate::answer_zap() {
  for (;;) {
    std::vector<zmq::message_t> req;
    zmq::message_t part;
    if (!again_on_eintr([&] { return zap_.recv(part, zmq::recv_flags::dontwait); })) return;
    req.push_back(std::move(part));
    while (req.back().more() && req.size() < 16) {
      zmq::message_t next;
      (void)again_on_eintr([&] { return zap_.recv(next); });
      req.push_back(std::move(next));
    }
    // [version][request id][domain][address][routing id][mechanism][credentials...]
    std::string user, status = "400", text = "unknown key";
    if (req.size() >= 7 && req[5].to_string_view() == "CURVE" && req[6].size() == 32) {
      char z85[41] = {};
      zmq_z85_encode(z85, req[6].data<std::uint8_t>(), 32);
      if (principals_->count(std::string_view(z85))) {
        user = z85;
        status = "200";
        text = "OK";
      } else {
        const auto now = std::chrono::steady_clock::now();
        auto it = refused_.find(std::string_view(z85));
        if (it == refused_.end() || now - it->second >= kLogRefusedEvery) {
          if (refused_.size() >= kRefusedRemembered) refused_.clear();
          refused_[z85] = now;
          spdlog::warn("refused a connection from {} with unknown key {} (logged once a minute per key)",
                       req[3].to_string(), z85);
        }
      }
    } else if (req.size() >= 6) {
      text = "CURVE required";
    }
    const std::string version = req.empty() ? "1.0" : req[0].to_string();
    const std::string id = req.size() > 1 ? req[1].to_string() : std::string();
    auto more = zmq::send_flags::sndmore;
    again_on_eintr([&] { return zap_.send(zmq::buffer(version), more); });
    again_on_eintr([&] { return zap_.send(zmq::buffer(id), more); });
    again_on_eintr([&] { return zap_.send(zmq::buffer(status), more); });
    again_on_eintr([&] { return zap_.send(zmq::buffer(text), more); });
    again_on_eintr([&] { return zap_.send(zmq::buffer(user), more); });
    again_on_eintr([&] { return zap_.send(zmq::message_t(), zmq::send_flags::none); });
  }
}

std::shared_ptr<const domain::Principal> Gate::principal_of(const zmq::message_t& m) const {
  const char* user = zmq_msg_gets(m.handle(), "User-Id");
  if (!user) return nullptr;
  auto it = principals_->find(std::string_view(user));
  return it == principals_->end() ? nullptr : it->second;
}

bool Gate::reload() {
  std::shared_ptr<const Principals> fresh;
  try {
    fresh = std::make_shared<const Principals>(load_principals(opts_.principals));
  } catch (const std::exception& e) {
    spdlog::error("principals not reloaded, the old ones stay in force: {}", e.what());
    return false;
  }
  bool narrowed = false;
  for (const auto& [key, p] : *principals_) {
    auto it = fresh->find(key);
    if (it == fresh->end() || it->second->role != p->role || it->second->datasources != p->datasources ||
        it->second->name != p->name)
      narrowed = true;
  }
  spdlog::info("principals reloaded from {}: {} keys (were {})", opts_.principals.string(), fresh->size(),
               principals_->size());
  principals_ = std::move(fresh);
  return narrowed;
}

}  // namespace ledgerq::transport
