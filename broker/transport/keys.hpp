// CURVE key files (PROTOCOL.md §14.5): the format the broker, libclient and
// the tools share. Nothing else in the project reads or writes a key.
//
// Key files hold one Z85-encoded 32-byte key (40 characters) on a line;
// lines starting with '#' and blank lines are ignored:
//   NAME.pub     the public key (any mode)
//   NAME.secret  the secret key; refused unless only its owner may read it
//                (no group or other permission bits)
//
// Uses libzmq's C API (z85, curve key derivation) only; no sockets.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ledgerq::keys {

/// A key file (or the principals file) that cannot be used; the message says
/// which file, which line and why.
struct KeyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A CURVE key pair, Z85-encoded (40 characters each).
struct KeyPair {
  std::string public_z85;
  std::string secret_z85;
};

/// A fresh key pair (libzmq's zmq_curve_keypair).
KeyPair generate();

/// Whether `z85` is a well-formed Z85 32-byte key.
bool is_key(std::string_view z85);

/// The public key of a secret one; throws KeyError for a malformed key.
std::string public_of(std::string_view secret_z85);

/// Writes `base`.pub (0644) and `base`.secret (0600). Refuses (KeyError)
/// to overwrite either file.
void write_pair(const std::filesystem::path& base, const KeyPair& pair);

/// Reads a public key file. Throws KeyError.
std::string read_public(const std::filesystem::path& file);

/// Reads a secret key file and derives its public key. Throws KeyError for
/// a malformed key or a file that its group or others may read.
KeyPair read_secret(const std::filesystem::path& file);

/// A public key given either as the path of a .pub file or as its Z85 text
/// (what the tools' --server-key and LEDGERQ_SERVER_KEY accept). A file
/// that exists wins: some paths are valid Z85 too.
std::string public_key_arg(std::string_view text_or_path);

/// The lines of a key or principals file that are neither blank nor
/// comments ('#' first), trimmed, with their 1-based numbers.
std::vector<std::pair<int, std::string_view>> content_lines(std::string_view text);
/// A whole file; throws KeyError naming it when it cannot be read.
std::string read_text(const std::filesystem::path& file);

}  // namespace ledgerq::keys
