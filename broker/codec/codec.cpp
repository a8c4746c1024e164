// msgpack encoding and decoding of the structs in messages.hpp, driven by the
// field model in fields.hpp. Three visitors walk that model: Counter (how
// many keys a map will have), Emitter (packs them) and Reader (checks and
// reads them). Hostile bytes end as an Error, never as an exception.
#include "codec.hpp"

#include <msgpack.hpp>

#include <algorithm>
#include <cstring>
#include <array>
#include <limits>
#include <type_traits>

#include "fields.hpp"

namespace ledgerq::codec {
namespace {

// msgpack's packer writes into any stream with write(ptr, n), a few bytes at
// a time. This one packs straight into the std::string we return, with an
// inline fast path: no sbuffer (an 8 KiB first allocation and a copy out)
// and no out-of-line append per byte run. finish() trims it to size.
class StringStream {
 public:
  static constexpr std::size_t kInitial = 256;  // a typical record or reply fits
  explicit StringStream(std::string& out) : s_(out) { grow(kInitial); }
  void write(const char* p, std::size_t n) {
    if (static_cast<std::size_t>(end_ - cur_) < n) grow(n);
    if (n > 8) std::memcpy(cur_, p, n);
    else
      for (std::size_t i = 0; i < n; ++i) cur_[i] = p[i];  // headers and small ints: no call
    cur_ += n;
  }
  void finish() { s_.resize(static_cast<std::size_t>(cur_ - s_.data())); }

 private:
  void grow(std::size_t n) {
    const std::size_t used = s_.empty() ? 0 : static_cast<std::size_t>(cur_ - s_.data());
    s_.resize(std::max(2 * s_.size(), used + n));
    cur_ = s_.data() + used;
    end_ = s_.data() + s_.size();
  }
  std::string& s_;
  char* cur_ = nullptr;
  char* end_ = nullptr;
};
using Packer = msgpack::packer<StringStream>;

void pack_text(Packer& pk, std::string_view v) {
  pk.pack_str(static_cast<std::uint32_t>(v.size()));
  pk.pack_str_body(v.data(), static_cast<std::uint32_t>(v.size()));
}

template <class T> struct is_optional : std::false_type {};
template <class T> struct is_optional<std::optional<T>> : std::true_type {};
template <class T> struct is_vector : std::false_type {};
template <class T> struct is_vector<std::vector<T>> : std::true_type {};

// Whether a member is written: absent optionals and empty optional strings
// are left out, everything else always appears (canonical form).
template <class T> bool present(const T& v, bool omit_empty) {
  if constexpr (is_optional<T>::value) return v.has_value();
  else if constexpr (std::is_same_v<T, std::string> || is_vector<T>::value) return !omit_empty || !v.empty();
  else if constexpr (std::is_same_v<T, bool>) return !omit_empty || v;
  else if constexpr (std::is_integral_v<T>) return !omit_empty || v != 0;
  else return true;
}

struct Counter {
  std::uint32_t n = 0;
  template <class T> void field(Key, T& v, Text = Text::word, bool optional = false) {
    if (present(v, optional)) ++n;
  }
};

struct Emitter {
  std::string& out;
  StringStream stream{out};
  Packer pk{stream};

  template <class T> void field(Key key, T& v, Text = Text::word, bool optional = false) {
    if (!present(v, optional)) return;
    // Every key is under 32 bytes: a fixstr, header and name in one write.
    char buf[32];
    const std::size_t n = key.name.size();
    if (n >= sizeof buf) {
      pack_text(pk, key.name);
    } else {
      buf[0] = static_cast<char>(0xa0 | n);
      std::memcpy(buf + 1, key.name.data(), n);
      stream.write(buf, n + 1);
    }
    put(v);
  }

  template <class T> void put(T& v) {
    if constexpr (std::is_same_v<T, std::string>) pk.pack(v);
    else if constexpr (std::is_same_v<T, bool>) pk.pack(v);
    else if constexpr (std::is_integral_v<T>) pk.pack(v);  // smallest width
    else if constexpr (std::is_same_v<T, Code>) pk.pack(static_cast<std::uint16_t>(v));
    else if constexpr (std::is_same_v<T, JobStatus>) pack_text(pk, status_name(v));
    else if constexpr (std::is_same_v<T, EventType>) pack_text(pk, event_type_name(v));
    else if constexpr (std::is_same_v<T, Any>) {
      if (v.msgpack.empty()) pk.pack_nil();
      else stream.write(v.msgpack.data(), v.msgpack.size());
    } else if constexpr (is_optional<T>::value) put(*v);
    else if constexpr (is_vector<T>::value) {
      pk.pack_array(static_cast<std::uint32_t>(v.size()));
      for (auto& e : v) put(e);
    } else map(v);
  }

  template <class M> void map(M& m) {
    Counter c;
    describe(c, m);
    pk.pack_map(c.n);
    describe(*this, m);
  }
};

template <class M> std::string pack_struct(const M& m) {
  std::string out;
  Emitter e{out};
  e.map(const_cast<M&>(m));  // Emitter only reads; describe() takes non-const
  e.stream.finish();
  return out;
}

// The canonical bytes of one decoded value.
std::string repack(const msgpack::object& o) {
  std::string out;
  StringStream stream{out};
  msgpack::pack(stream, o);
  stream.finish();
  return out;
}

const char* type_name(msgpack::type::object_type t) {
  switch (t) {
    case msgpack::type::NIL: return "nil";
    case msgpack::type::BOOLEAN: return "boolean";
    case msgpack::type::POSITIVE_INTEGER: return "integer";
    case msgpack::type::NEGATIVE_INTEGER: return "negative integer";
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: return "float";
    case msgpack::type::STR: return "string";
    case msgpack::type::BIN: return "binary";
    case msgpack::type::ARRAY: return "array";
    case msgpack::type::MAP: return "map";
    case msgpack::type::EXT: return "ext";
  }
  return "unknown";
}

// Nesting depth of a value: 0 for a scalar, 1 + the deepest element for an
// array or map. Bounded by the unpacker's depth limit, so the recursion is.
std::uint32_t depth(const msgpack::object& o) {
  std::uint32_t d = 0;
  if (o.type == msgpack::type::ARRAY) {
    for (std::uint32_t i = 0; i < o.via.array.size; ++i) d = std::max(d, depth(o.via.array.ptr[i]));
    return d + 1;
  }
  if (o.type == msgpack::type::MAP) {
    for (std::uint32_t i = 0; i < o.via.map.size; ++i)
      d = std::max({d, depth(o.via.map.ptr[i].key), depth(o.via.map.ptr[i].val)});
    return d + 1;
  }
  return 0;
}

bool is_ds_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '.' || c == '-';
}

// Reads one msgpack map into a struct, following describe(). Stops at the
// first problem and keeps it in `error`, with the path of the field.
struct Reader {
  const msgpack::object_map& map;
  std::string prefix;
  std::optional<Error> error;
  bool keys_checked = false;
  std::uint32_t next = 0;  // where the next field is likely to be

  void fail(Code code, std::string msg) {
    if (!error) error = Error{code, std::move(msg)};
  }

  // Every key of the map, read or not, must be a string and appear once:
  // checked as a whole before the first field is read.
  void check_keys() {
    keys_checked = true;
    for (std::uint32_t i = 0; i < map.size; ++i) {
      const auto& k = map.ptr[i].key;
      if (k.type != msgpack::type::STR)
        return fail(Code::bad_request, prefix + "map keys must be strings, got " + type_name(k.type));
    }
    auto key_at = [&](std::uint32_t i) {
      return std::string_view(map.ptr[i].key.via.str.ptr, map.ptr[i].key.via.str.size);
    };
    std::optional<std::string_view> dup;
    if (map.size <= 32) {
      // Our maps are small: pairwise, on the stack, is cheaper than sorting
      // a copy (and most pairs differ in length at once).
      for (std::uint32_t i = 1; i < map.size && !dup; ++i)
        for (std::uint32_t j = 0; j < i; ++j)
          if (key_at(i) == key_at(j)) {
            dup = key_at(i);
            break;
          }
    } else {
      std::vector<std::string_view> keys;
      keys.reserve(map.size);
      for (std::uint32_t i = 0; i < map.size; ++i) keys.push_back(key_at(i));
      std::sort(keys.begin(), keys.end());
      if (auto it = std::adjacent_find(keys.begin(), keys.end()); it != keys.end()) dup = *it;
    }
    if (dup) fail(Code::bad_request, prefix + "duplicate key '" + std::string(*dup) + "'");
  }

  // Our own encoder writes fields in describe() order, so the key after the
  // last one found is tried first: reading a canonical map is linear.
  const msgpack::object* find(std::string_view key) {
    if (!keys_checked) check_keys();
    if (error) return nullptr;
    auto key_at = [&](std::uint32_t i) {
      return std::string_view(map.ptr[i].key.via.str.ptr, map.ptr[i].key.via.str.size);
    };
    if (next < map.size && key_at(next) == key) return &map.ptr[next++].val;
    for (std::uint32_t i = 0; i < map.size; ++i) {
      if (key_at(i) == key) {
        next = i + 1;
        return &map.ptr[i].val;
      }
    }
    return nullptr;
  }

  template <class T> void field(Key k, T& v, Text rule = Text::word, bool optional = false) {
    if (error) return;  // (Reader::field)
    const char* key = k;
    const msgpack::object* o = find(k.name);
    if (error) return;
    if constexpr (is_optional<T>::value) {
      if (!o || o->type == msgpack::type::NIL) {
        v.reset();
        return;
      }
      v.emplace();
      get(key, *o, *v, rule);
    } else {
      // nil is "absent" for a field that may be left out (§4 rule 4).
      if (!o || (optional && o->type == msgpack::type::NIL)) {
        if (optional) return;
        fail(Code::bad_request, "missing field '" + prefix + key + "'");
        return;
      }
      get(key, *o, v, rule);
    }
  }

  void wrong_type(const char* key, const char* want, const msgpack::object& o) {
    fail(Code::bad_request, "field '" + prefix + key + "': expected " + want + ", got " +
                                type_name(o.type));
  }

  void check_text(const char* key, const std::string& s, Text rule) {
    auto bad = [&](Code c, const std::string& why) { fail(c, "field '" + prefix + key + "': " + why); };
    switch (rule) {
      case Text::id:
        if (s.empty()) return bad(Code::bad_request, "must not be empty");
        if (s.size() > Limits::max_id) return bad(Code::too_large, "longer than 128 bytes");
        if (s.find('\0') != std::string::npos) return bad(Code::bad_request, "must not contain a NUL byte");
        return;
      case Text::ds:
        if (s.empty()) return bad(Code::bad_request, "must not be empty");
        if (s.size() > Limits::max_datasource) return bad(Code::too_large, "longer than 64 bytes");
        for (char c : s)
          if (!is_ds_char(c)) return bad(Code::bad_request, "may hold only A-Z a-z 0-9 _ . -");
        return;
      case Text::error:
        if (s.size() > Limits::max_error) return bad(Code::too_large, "longer than 4096 bytes");
        return;
      case Text::word:
        if (s.empty() || s.size() > 32) return bad(Code::bad_request, "must be 1..32 bytes");
        return;
      case Text::custom:
        if (s.size() > 1024) return bad(Code::too_large, "longer than 1024 bytes");
        return;
    }
  }

  template <class T> void get(const char* key, const msgpack::object& o, T& v, Text rule) {
    using msgpack::type::object_type;
    if constexpr (std::is_same_v<T, std::string>) {
      if (o.type != msgpack::type::STR) return wrong_type(key, "string", o);
      v.assign(o.via.str.ptr, o.via.str.size);
      check_text(key, v, rule);
    } else if constexpr (std::is_same_v<T, bool>) {
      if (o.type != msgpack::type::BOOLEAN) return wrong_type(key, "boolean", o);
      v = o.via.boolean;
    } else if constexpr (std::is_integral_v<T>) {
      if (o.type != msgpack::type::POSITIVE_INTEGER) {
        if (o.type == msgpack::type::NEGATIVE_INTEGER)
          return fail(Code::bad_request, "field '" + prefix + key + "': must not be negative");
        return wrong_type(key, "unsigned integer", o);
      }
      if (o.via.u64 > std::numeric_limits<T>::max())
        return fail(Code::bad_request, "field '" + prefix + key + "': out of range");
      v = static_cast<T>(o.via.u64);
    } else if constexpr (std::is_same_v<T, Code>) {
      std::uint16_t c = 0;
      get(key, o, c, rule);
      v = static_cast<Code>(c);
    } else if constexpr (std::is_same_v<T, JobStatus>) {
      if (o.type != msgpack::type::STR) return wrong_type(key, "status string", o);
      auto s = parse_status(std::string_view(o.via.str.ptr, o.via.str.size));
      if (!s) {
        // Echo at most 32 bytes: the error reply's message must fit 4096.
        const std::string_view name(o.via.str.ptr, o.via.str.size);
        return fail(Code::bad_request, "field '" + prefix + key + "': unknown status '" +
                                           std::string(name.substr(0, 32)) +
                                           (name.size() > 32 ? "...'" : "'"));
      }
      v = *s;
    } else if constexpr (std::is_same_v<T, EventType>) {
      if (o.type != msgpack::type::STR) return wrong_type(key, "event type string", o);
      auto t = parse_event_type(std::string_view(o.via.str.ptr, o.via.str.size));
      if (!t) return fail(Code::bad_request, "field '" + prefix + key + "': unknown event type");
      v = *t;
    } else if constexpr (std::is_same_v<T, Any>) {
      if (depth(o) > Limits::max_depth)
        return fail(Code::too_large, "field '" + prefix + key + "': nesting deeper than " +
                                         std::to_string(Limits::max_depth));
      v.msgpack = repack(o);
      if (v.msgpack.size() > Limits::max_body)
        return fail(Code::too_large, "field '" + prefix + key + "': body over 1 MiB");
    } else if constexpr (is_vector<T>::value) {
      if (o.type != msgpack::type::ARRAY) return wrong_type(key, "array", o);
      if (o.via.array.size > Limits::max_page * 10)
        return fail(Code::too_large, "field '" + prefix + key + "': more than " +
                                         std::to_string(Limits::max_page * 10) + " elements");
      v.clear();
      v.resize(o.via.array.size);
      for (std::uint32_t i = 0; i < o.via.array.size && !error; ++i) {
        const std::string at = std::string(key) + "[" + std::to_string(i) + "]";
        if constexpr (std::is_same_v<typename T::value_type, std::string>) get(at.c_str(), o.via.array.ptr[i], v[i], rule);
        else nested(at.c_str(), o.via.array.ptr[i], v[i]);
      }
    } else {
      nested(key, o, v);
    }
  }

  template <class M> void nested(const char* key, const msgpack::object& o, M& m) {
    if (o.type != msgpack::type::MAP) return wrong_type(key, "map", o);
    Reader inner{o.via.map, prefix + key + ".", std::nullopt};
    describe(inner, m);
    if (inner.error) error = inner.error;
  }
};

// Unpacks exactly one msgpack value from `bytes`, with limits on sizes and
// depth so that hostile input cannot make us allocate without bound.
//
// The objects live in one zone per thread, cleared for each message (it
// keeps its first 8 KiB chunk: no allocation for a typical message), and
// strings, binaries and exts point into `bytes` instead of being copied.
// So the object is valid until the next unpack on this thread, and while
// `bytes` lives: every caller reads what it needs out of it at once.
Result<msgpack::object> unpack(std::string_view bytes) {
  if (bytes.size() > Limits::max_message)
    return Error{Code::too_large, "message body over " + std::to_string(Limits::max_message) + " bytes"};
  thread_local msgpack::zone zone;
  zone.clear();
  try {
    std::size_t off = 0;
    bool referenced = false;
    const msgpack::unpack_limit limit(1 << 18, 1 << 16, Limits::max_message, Limits::max_message,
                                      Limits::max_message, Limits::max_depth + 4);
    const auto in_place = +[](msgpack::type::object_type, std::size_t, void*) { return true; };
    msgpack::object o = msgpack::unpack(zone, bytes.data(), bytes.size(), off, referenced, in_place, nullptr, limit);
    if (off != bytes.size())
      return Error{Code::bad_request, "trailing bytes after the msgpack value"};
    return o;
  } catch (const msgpack::insufficient_bytes&) {
    return Error{Code::bad_request, "truncated msgpack"};
  } catch (const msgpack::size_overflow&) {
    return Error{Code::too_large, "msgpack container or nesting over the limits"};
  } catch (const std::exception& e) {
    return Error{Code::bad_request, std::string("malformed msgpack: ") + e.what()};
  }
}

template <class M> Result<M> unpack_struct(std::string_view bytes, const char* what) {
  auto oh = unpack(bytes);
  if (!oh) return oh.error();
  const msgpack::object& o = *oh;
  if (o.type != msgpack::type::MAP)
    return Error{Code::bad_request, std::string(what) + ": expected a map, got " + type_name(o.type)};
  M m{};
  Reader r{o.via.map, "", std::nullopt};
  describe(r, m);
  if (r.error) return *r.error;
  return m;
}

}  // namespace

// The wire name of each Command alternative, in variant order.
constexpr std::array<std::string_view, std::variant_size_v<Command>> kCommandNames = {
    "ping", "ds_create", "ds_delete", "ds_list", "submit", "cancel", "status",
    "update", "latest", "since", "missed", "ds_configure", "submit_batch", "dequeue",
    "ack", "checkpoint", "lookup", "count", "scan", "retry", "delete", "stats"};

namespace {

template <class V, std::size_t... I>
V default_alternative(std::size_t index, std::index_sequence<I...>) {
  static constexpr std::array<V (*)(), sizeof...(I)> make = {
      +[]() -> V { return std::variant_alternative_t<I, V>{}; }...};
  return make[index]();
}

// The reply body type each command is answered with, by command name.
std::optional<ReplyBody> reply_body_for(std::string_view command) {
  if (command == "ping") return reply::Ping{};
  if (command == "ds_create") return reply::DsCreate{};
  if (command == "ds_delete") return reply::DsDelete{};
  if (command == "ds_list") return reply::DsList{};
  if (command == "submit") return reply::Submit{};
  if (command == "cancel" || command == "status" || command == "update") return reply::Status{};
  if (command == "latest") return reply::Latest{};
  if (command == "since") return reply::Since{};
  if (command == "missed") return reply::Missed{};
  if (command == "ds_configure") return reply::DsConfigure{};
  if (command == "submit_batch") return reply::SubmitBatch{};
  if (command == "dequeue") return reply::Dequeue{};
  if (command == "ack") return reply::Ack{};
  if (command == "checkpoint") return reply::Status{};
  if (command == "lookup") return reply::Lookup{};
  if (command == "count") return reply::Count{};
  if (command == "scan") return reply::Scan{};
  if (command == "retry") return reply::Retry{};
  if (command == "delete") return reply::Delete{};
  if (command == "stats") return reply::Stats{};
  return std::nullopt;
}

}  // namespace

// ---------------------------------------------------------------------------

Result<std::monostate> check_signature(std::string_view frame) {
  if (frame == kSignature) return std::monostate{};
  if (frame.size() == kSignature.size() && frame.substr(0, 4) == kSignature.substr(0, 4))
    return Error{Code::bad_request,
                 "unsupported protocol version " +
                     std::to_string(static_cast<unsigned char>(frame[4])) + "; this broker speaks " +
                     std::to_string(kVersion)};
  return Error{Code::bad_request, "first frame is not the ledgerq signature \"LDGQ\" 0x01"};
}

DecodedRequest decode_request(std::string_view body) {
  DecodedRequest out;
  auto oh = unpack(body);
  if (!oh) {
    out.command = oh.error();
    return out;
  }
  const msgpack::object& o = *oh;
  if (o.type != msgpack::type::MAP) {
    out.command = Error{Code::bad_request, std::string("request: expected a map, got ") + type_name(o.type)};
    return out;
  }
  Reader r{o.via.map, "", std::nullopt};
  std::uint64_t rid = 0;
  r.field("rid", rid);
  if (r.error) {
    out.command = *r.error;
    return out;
  }
  out.rid = rid;
  std::string name;
  r.field("cmd", name, Text::word);
  if (r.error) {
    out.command = *r.error;
    return out;
  }
  std::size_t index = kCommandNames.size();
  for (std::size_t i = 0; i < kCommandNames.size(); ++i)
    if (kCommandNames[i] == name) index = i;
  if (index == kCommandNames.size()) {
    out.command = Error{Code::bad_request, "unknown command '" + name + "'"};
    return out;
  }
  Command cmd = default_alternative<Command>(index, std::make_index_sequence<std::variant_size_v<Command>>{});
  std::visit([&](auto& c) { describe(r, c); }, cmd);
  if (r.error) out.command = *r.error;
  else out.command = std::move(cmd);
  return out;
}

std::string encode_request(const Request& req) {
  std::string out;
  Emitter e{out};
  std::visit(
      [&](const auto& c) {
        using C = std::decay_t<decltype(c)>;
        Counter n;
        describe(n, const_cast<C&>(c));
        e.pk.pack_map(n.n + 2);
        e.pk.pack("cmd");
        pack_text(e.pk, command_name(req.command));
        e.pk.pack("rid");
        e.pk.pack(req.rid);
        describe(e, const_cast<C&>(c));
      },
      req.command);
  e.stream.finish();
  return out;
}

std::string encode_reply(const Reply& r) {
  std::string out;
  Emitter e{out};
  std::visit(
      [&](const auto& b) {
        using B = std::decay_t<decltype(b)>;
        Counter n;
        if (r.code == Code::ok) describe(n, const_cast<B&>(b));
        e.pk.pack_map(n.n + 2 + (r.message.empty() ? 0 : 1));
        e.pk.pack("rid");
        e.pk.pack(r.rid);
        e.pk.pack("code");
        e.pk.pack(static_cast<std::uint16_t>(r.code));
        if (!r.message.empty()) {
          e.pk.pack("message");
          e.pk.pack(r.message);
        }
        if (r.code == Code::ok) describe(e, const_cast<B&>(b));
      },
      r.body);
  e.stream.finish();
  return out;
}

Result<Reply> decode_reply(std::string_view body, std::string_view command) {
  auto expected = reply_body_for(command);
  if (!expected) return Error{Code::bad_request, "unknown command '" + std::string(command) + "'"};
  auto oh = unpack(body);
  if (!oh) return oh.error();
  const msgpack::object& o = *oh;
  if (o.type != msgpack::type::MAP)
    return Error{Code::bad_request, std::string("reply: expected a map, got ") + type_name(o.type)};
  Reader r{o.via.map, "", std::nullopt};
  Reply out;
  std::uint16_t code = 0;
  r.field("rid", out.rid);
  r.field("code", code);
  r.field("message", out.message, Text::error, /*optional=*/true);
  if (r.error) return *r.error;
  out.code = static_cast<Code>(code);
  if (out.code != Code::ok) return out;
  out.body = std::move(*expected);
  std::visit([&](auto& b) { describe(r, b); }, out.body);
  if (r.error) return *r.error;
  return out;
}

std::uint64_t peek_reply_rid(std::string_view body) {
  auto oh = unpack(body);
  if (!oh || oh->type != msgpack::type::MAP) return 0;
  Reader r{oh->via.map, "", std::nullopt};
  std::uint64_t rid = 0;
  r.field("rid", rid);
  return r.error ? 0 : rid;
}

std::string status_topic(std::string_view client) {
  std::string t(client);
  t.push_back('\0');
  return t;
}

std::string request_topic(std::string_view datasource) {
  std::string t(datasource);
  t.push_back('\0');
  return t;
}

std::string encode(const StatusNotice& n) { return pack_struct(n); }
std::string encode(const RequestEntry& e) { return pack_struct(e); }
std::string encode(const Event& e) { return pack_struct(e); }
std::string encode(const JobRecord& j) { return pack_struct(j); }
std::string encode(const DatasourceRecord& d) { return pack_struct(d); }
std::string encode(const KeyState& k) { return pack_struct(k); }
std::string encode(const Tombstone& t) { return pack_struct(t); }
Result<KeyState> decode_key_state(std::string_view b) { return unpack_struct<KeyState>(b, "key state"); }
Result<Tombstone> decode_tombstone(std::string_view b) { return unpack_struct<Tombstone>(b, "tombstone"); }

Result<StatusNotice> decode_status_notice(std::string_view b) { return unpack_struct<StatusNotice>(b, "status notice"); }
Result<RequestEntry> decode_request_entry(std::string_view b) { return unpack_struct<RequestEntry>(b, "request entry"); }
Result<Event> decode_event(std::string_view b) { return unpack_struct<Event>(b, "event"); }
Result<JobRecord> decode_job_record(std::string_view b) { return unpack_struct<JobRecord>(b, "job record"); }
Result<DatasourceRecord> decode_datasource_record(std::string_view b) {
  return unpack_struct<DatasourceRecord>(b, "datasource record");
}

Result<Any> canonical_any(std::string_view bytes) {
  auto oh = unpack(bytes);
  if (!oh) return oh.error();
  if (depth(*oh) > Limits::max_depth)
    return Error{Code::too_large, "nesting deeper than " + std::to_string(Limits::max_depth)};
  Any a{repack(*oh)};
  if (a.msgpack.size() > Limits::max_body) return Error{Code::too_large, "body over 1 MiB"};
  return a;
}

}  // namespace ledgerq::codec

namespace ledgerq {
std::string_view command_name(const Command& c) noexcept { return codec::kCommandNames[c.index()]; }
}  // namespace ledgerq
