#include "keys.hpp"

#include <sys/stat.h>
#include <zmq.h>

#include <array>
#include <fstream>
#include <sstream>
#include <vector>

namespace ledgerq::keys {

std::vector<std::pair<int, std::string_view>> content_lines(std::string_view text) {
  std::vector<std::pair<int, std::string_view>> out;
  int number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++number;
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) line.remove_prefix(1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    out.emplace_back(number, line);
  }
  return out;
}

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw KeyError(file.string() + ": cannot read");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

namespace {

constexpr std::size_t kZ85Key = 40;

// The one key a key file holds.
std::string key_of_file(const std::filesystem::path& file, std::string_view kind) {
  const std::string text = read_text(file);
  const auto lines = content_lines(text);
  if (lines.size() != 1 || !is_key(lines[0].second))
    throw KeyError(file.string() + ": not a " + std::string(kind) + " key file (one Z85 key of 40 characters)");
  return std::string(lines[0].second);
}

void write_new(const std::filesystem::path& file, const std::string& text, mode_t mode) {
  // O_EXCL through std::fopen's "x": never overwrite a key.
  FILE* f = std::fopen(file.c_str(), "wx");
  if (!f) throw KeyError(file.string() + ": cannot create (it exists, or the directory is not writable)");
  ::chmod(file.c_str(), mode);  // before the key is in it
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) throw KeyError(file.string() + ": write failed");
}

}  // namespace

KeyPair generate() {
  std::array<char, kZ85Key + 1> pub{}, sec{};
  if (zmq_curve_keypair(pub.data(), sec.data()) != 0)
    throw KeyError("cannot generate a CURVE key pair: libzmq has no CURVE support");
  return {pub.data(), sec.data()};
}

bool is_key(std::string_view z85) {
  if (z85.size() != kZ85Key) return false;
  const std::string text(z85);
  std::array<std::uint8_t, 32> raw{};
  return zmq_z85_decode(raw.data(), text.c_str()) != nullptr;
}

std::string public_of(std::string_view secret_z85) {
  if (!is_key(secret_z85)) throw KeyError("not a Z85 secret key");
  std::array<char, kZ85Key + 1> pub{};
  const std::string sec(secret_z85);
  if (zmq_curve_public(pub.data(), sec.c_str()) != 0) throw KeyError("cannot derive the public key");
  return pub.data();
}

void write_pair(const std::filesystem::path& base, const KeyPair& pair) {
  const auto pub = std::filesystem::path(base.string() + ".pub");
  const auto sec = std::filesystem::path(base.string() + ".secret");
  if (std::filesystem::exists(pub) || std::filesystem::exists(sec))
    throw KeyError(base.string() + ".pub or .secret exists already: keys are never overwritten");
  write_new(sec, "# ledgerq CURVE secret key: keep it private (mode 0600)\n" + pair.secret_z85 + "\n", 0600);
  write_new(pub, "# ledgerq CURVE public key\n" + pair.public_z85 + "\n", 0644);
}

std::string read_public(const std::filesystem::path& file) { return key_of_file(file, "public"); }

KeyPair read_secret(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) throw KeyError(file.string() + ": cannot read");
  if (st.st_mode & 077) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw KeyError(file.string() + ": a secret key file must be readable by its owner only (mode " + mode +
                   "; run chmod 600 " + file.string() + ")");
  }
  std::string secret = key_of_file(file, "secret");
  return {public_of(secret), std::move(secret)};
}

std::string public_key_arg(std::string_view text_or_path) {
  // A file first: a 40-byte path of Z85 characters ("/tmp/x/.../broker.pub")
  // also decodes as a key.
  const std::filesystem::path file(text_or_path);
  std::error_code ec;
  if (std::filesystem::is_regular_file(file, ec)) return read_public(file);
  if (is_key(text_or_path)) return std::string(text_or_path);
  return read_public(file);
}

}  // namespace ledgerq::keys
