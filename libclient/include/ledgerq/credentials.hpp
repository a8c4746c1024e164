// CURVE credentials for a broker in secure mode (PROTOCOL.md §14): the
// broker's public key and this peer's key pair. With them every socket of a
// Client, Driver or Worker is encrypted and the broker knows who is
// speaking; without them (the default) the peer speaks plain ZeroMQ, which
// only a broker in development mode (loopback) accepts.
//
// Keys are Z85 text, 40 characters; `ledgerq keygen NAME` writes NAME.pub
// and NAME.secret (mode 0600). Plain values: copy them freely.
#pragma once

#include <optional>
#include <string>

#include "ledgerq/export.hpp"

namespace ledgerq::client {

struct LEDGERQ_CLIENT_API Credentials {
  std::string server_key;  ///< the broker's public key
  std::string public_key;  ///< this peer's public key
  std::string secret_key;  ///< this peer's secret key

  /// From files: `server_key` is the broker's .pub file or its Z85 text;
  /// `secret_file` is this peer's .secret file, which must be readable by
  /// its owner only. Throws Error(bad_request) naming the file and the fault.
  static Credentials from_files(const std::string& server_key, const std::string& secret_file);

  /// From the environment, as the ledgerq tools read it: LEDGERQ_SERVER_KEY
  /// (the broker's .pub file or Z85 text) with LEDGERQ_SECRET_KEY_FILE (a
  /// .secret file) or LEDGERQ_SECRET_KEY (Z85 text). nullopt when
  /// LEDGERQ_SERVER_KEY is unset or empty (plain mode). Throws
  /// Error(bad_request) for a bad key or a missing secret.
  static std::optional<Credentials> from_env();
};

}  // namespace ledgerq::client
