#include "ledgerq/credentials.hpp"

#include <cstdlib>

#include "ledgerq/error.hpp"
#include "transport/keys.hpp"

namespace ledgerq::client {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

Credentials Credentials::from_files(const std::string& server_key, const std::string& secret_file) {
  try {
    auto pair = keys::read_secret(secret_file);
    return Credentials{keys::public_key_arg(server_key), std::move(pair.public_z85), std::move(pair.secret_z85)};
  } catch (const keys::KeyError& e) {
    throw Error(Code::bad_request, e.what());
  }
}

std::optional<Credentials> Credentials::from_env() {
  const std::string server = env("LEDGERQ_SERVER_KEY");
  if (server.empty()) return std::nullopt;
  const std::string file = env("LEDGERQ_SECRET_KEY_FILE"), secret = env("LEDGERQ_SECRET_KEY");
  if (!file.empty()) return from_files(server, file);
  if (secret.empty())
    throw Error(Code::bad_request, "LEDGERQ_SERVER_KEY is set but neither LEDGERQ_SECRET_KEY_FILE nor LEDGERQ_SECRET_KEY");
  try {
    return Credentials{keys::public_key_arg(server), keys::public_of(secret), secret};
  } catch (const keys::KeyError& e) {
    throw Error(Code::bad_request, std::string("LEDGERQ_SECRET_KEY: ") + e.what());
  }
}

}  // namespace ledgerq::client
