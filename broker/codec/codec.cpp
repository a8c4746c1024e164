// msgpack encoding and decoding of the structs in messages.hpp, driven by the
// field model in fields.hpp. Four visitors walk that model: Counter (how
// many keys a map will have), Emitter (packs them), Reader (checks and
// reads them from msgpack-c's object tree, any order and form) and
// FastReader (reads our own form straight from the bytes, or gives up and
// leaves it to the Reader). Hostile bytes end as an Error, never as an
// exception.
#include "codec.hpp"

#include <msgpack.hpp>

#include <algorithm>
#include <cstring>
#include <array>
#include <limits>
#include <type_traits>

#include "command_table.hpp"
#include "fields.hpp"

namespace ledgerq::codec {
namespace {

// msgpack's packer writes into any stream with write(ptr, n), a few bytes at
// a time. This one packs straight into the std::string we return, with an
// inline fast path: no sbuffer (an 8 KiB first allocation and a copy out)
// and no out-of-line append per byte run. finish() trims it to size.
// write() is forced inline: the packer's calls are ~250 sites, most with a
// constant n (a header, a fixed-width int), which then compile to a store
// or two; out of line, every token paid a call and a byte loop.
class StringStream {
 public:
  static constexpr std::size_t kInitial = 256;  // a typical record or reply fits
  explicit StringStream(std::string& out) : s_(out) { grow(kInitial); }
  [[gnu::always_inline]] void write(const char* p, std::size_t n) {
    if (static_cast<std::size_t>(end_ - cur_) < n) [[unlikely]] grow(n);
    std::memcpy(cur_, p, n);
    cur_ += n;
  }
  void finish() { s_.resize(static_cast<std::size_t>(cur_ - s_.data())); }

 private:
  [[gnu::noinline]] void grow(std::size_t n) {
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

// What is wrong with a string under its rule (PROTOCOL.md §5), if anything.
std::optional<Error> text_problem(std::string_view s, Text rule) {
  auto bad = [](Code c, const char* why) { return std::optional<Error>(Error{c, why}); };
  switch (rule) {
    case Text::id:
      if (s.empty()) return bad(Code::bad_request, "must not be empty");
      if (s.size() > Limits::max_id) return bad(Code::too_large, "longer than 128 bytes");
      if (s.find('\0') != std::string_view::npos) return bad(Code::bad_request, "must not contain a NUL byte");
      return std::nullopt;
    case Text::ds:
      if (s.empty()) return bad(Code::bad_request, "must not be empty");
      if (s.size() > Limits::max_datasource) return bad(Code::too_large, "longer than 64 bytes");
      for (char c : s)
        if (!is_ds_char(c)) return bad(Code::bad_request, "may hold only A-Z a-z 0-9 _ . -");
      return std::nullopt;
    case Text::error:
      if (s.size() > Limits::max_error) return bad(Code::too_large, "longer than 4096 bytes");
      return std::nullopt;
    case Text::word:
      if (s.empty() || s.size() > 32) return bad(Code::bad_request, "must be 1..32 bytes");
      return std::nullopt;
    case Text::custom:
      if (s.size() > 1024) return bad(Code::too_large, "longer than 1024 bytes");
      return std::nullopt;
  }
  return std::nullopt;
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
    if (dup) fail(Code::bad_request, prefix + "duplicate key " + quote(*dup));
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
    if (auto p = text_problem(s, rule)) fail(p->code, "field '" + prefix + key + "': " + p->message);
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
        return fail(Code::bad_request, "field '" + prefix + key + "': unknown status " +
                                           quote(std::string_view(o.via.str.ptr, o.via.str.size)));
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

// The fast path for maps in the form our own encoder writes them (stored
// records, libclient's requests, the broker's ok replies): it reads the bytes in describe() order,
// building no object tree. It takes only what it is sure the Reader would
// read the same way: keys in describe() order, each once, and nothing else;
// strings its rules accept; bodies (Any) already in canonical form, which
// the Reader would repack to the same bytes. On anything else it gives up
// (`failed`) and the caller decodes with unpack() and the Reader, which
// accept every order and form and word the errors. Every read is bounded
// by `end`: hostile bytes make it give up, never read past them.
struct FastReader {
  const unsigned char* p;
  const unsigned char* end;
  std::uint32_t remaining = 0;  // entries of the current map not yet read
  bool failed = false;

  bool need(std::size_t n) {
    if (static_cast<std::size_t>(end - p) < n) failed = true;
    return !failed;
  }
  std::uint64_t be(const unsigned char* q, int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | q[i];
    return v;
  }
  // A container header (fixmap/map16/map32 or fixarray/array16/array32).
  bool container(bool map, std::uint32_t& n) {
    if (!need(1)) return false;
    const unsigned char b = *p;
    const unsigned char fix = map ? 0x80 : 0x90, w16 = map ? 0xde : 0xdc, w32 = map ? 0xdf : 0xdd;
    if ((b & 0xf0) == fix) {
      n = b & 0x0f;
      p += 1;
    } else if (b == w16 && need(3)) {
      n = static_cast<std::uint32_t>(be(p + 1, 2));
      p += 3;
    } else if (b == w32 && need(5)) {
      n = static_cast<std::uint32_t>(be(p + 1, 4));
      p += 5;
    } else {
      failed = true;
    }
    return !failed;
  }
  // A string value (any str form), in place.
  bool str(std::string_view& out) {
    if (!need(1)) return false;
    const unsigned char b = *p;
    std::size_t n = 0, h = 1;
    if ((b & 0xe0) == 0xa0) n = b & 0x1f;
    else if (b == 0xd9 && need(2)) n = p[1], h = 2;
    else if (b == 0xda && need(3)) n = be(p + 1, 2), h = 3;
    else if (b == 0xdb && need(5)) n = be(p + 1, 4), h = 5;
    else failed = true;
    if (failed || !need(h + n)) return false;
    out = std::string_view(reinterpret_cast<const char*>(p + h), n);
    p += h + n;
    return true;
  }
  // An unsigned integer: what msgpack-c reads as a positive integer.
  bool unsigned_int(std::uint64_t& v) {
    if (!need(1)) return false;
    const unsigned char b = *p;
    if (b <= 0x7f) {
      v = b;
      p += 1;
      return true;
    }
    static constexpr int kWidth[] = {1, 2, 4, 8};
    if (b >= 0xcc && b <= 0xcf) {
      const int w = kWidth[b - 0xcc];
      if (!need(1 + static_cast<std::size_t>(w))) return false;
      v = be(p + 1, w);
      p += 1 + w;
      return true;
    }
    failed = true;  // signed forms, even of values >= 0: the Reader's business
    return false;
  }
  bool is_nil() { return p < end && *p == 0xc0; }

  // One value in canonical form (what msgpack-c's packer writes for it),
  // nested at most `depth_left` deep; advances past it.
  bool canonical(int depth_left) {
    if (!need(1)) return false;
    const unsigned char b = *p;
    auto sized = [&](std::size_t h, std::size_t n, bool ok) {
      if (!ok || !need(h + n)) return failed = true, false;
      p += h + n;
      return true;
    };
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) return p += 1, true;
    if ((b & 0xe0) == 0xa0) return sized(1, b & 0x1f, true);
    if ((b & 0xe0) == 0x80 || (b >= 0xdc && b <= 0xdf)) {  // fixmap, fixarray; array16/32, map16/32
      const bool map = (b & 0xf0) == 0x80 || b == 0xde || b == 0xdf;
      std::uint32_t n = 0;
      const unsigned char* at = p;
      if (!container(map, n)) return false;
      const std::size_t h = static_cast<std::size_t>(p - at);
      // Not canonical, too deep, or past unpack()'s container limits.
      if ((h == 3 && n < 16) || (h == 5 && n < 65536) || depth_left == 0 || n > (map ? 1u << 16 : 1u << 18))
        return failed = true, false;
      for (std::uint64_t i = 0; i < (map ? 2ull : 1ull) * n && !failed; ++i) canonical(depth_left - 1);
      return !failed;
    }
    if (!need(2)) return false;
    switch (b) {
      case 0xcc: return sized(2, 0, p[1] >= 0x80);
      case 0xcd: return need(3) && sized(3, 0, be(p + 1, 2) >= 0x100);
      case 0xce: return need(5) && sized(5, 0, be(p + 1, 4) >= 0x10000);
      case 0xcf: return need(9) && sized(9, 0, be(p + 1, 8) >= 0x100000000ull);
      case 0xd0: return sized(2, 0, static_cast<std::int8_t>(p[1]) < -32);
      case 0xd1: return need(3) && sized(3, 0, static_cast<std::int16_t>(be(p + 1, 2)) < -128);
      case 0xd2: return need(5) && sized(5, 0, static_cast<std::int32_t>(be(p + 1, 4)) < -32768);
      case 0xd3: return need(9) && sized(9, 0, static_cast<std::int64_t>(be(p + 1, 8)) < -2147483648ll);
      // Floats: msgpack-c repacks an integral one as an integer, and a
      // float32 passes through a double: left to the general reader.
      case 0xca:
      case 0xcb: return failed = true, false;
      case 0xd9: return sized(2, p[1], p[1] >= 32);
      case 0xda: return need(3) && sized(3, be(p + 1, 2), be(p + 1, 2) >= 0x100);
      case 0xdb: return need(5) && sized(5, be(p + 1, 4), be(p + 1, 4) >= 0x10000);
      case 0xc4: return sized(2, p[1], true);
      case 0xc5: return need(3) && sized(3, be(p + 1, 2), be(p + 1, 2) >= 0x100);
      case 0xc6: return need(5) && sized(5, be(p + 1, 4), be(p + 1, 4) >= 0x10000);
      case 0xd4: return sized(2, 1, true);
      case 0xd5: return sized(2, 2, true);
      case 0xd6: return sized(2, 4, true);
      case 0xd7: return sized(2, 8, true);
      case 0xd8: return sized(2, 16, true);
      case 0xc7: {
        const std::size_t n = p[1];
        return sized(3, n, n != 1 && n != 2 && n != 4 && n != 8 && n != 16);
      }
      case 0xc8: return need(4) && sized(4, be(p + 1, 2), be(p + 1, 2) >= 0x100);
      case 0xc9: return need(6) && sized(6, be(p + 1, 4), be(p + 1, 4) >= 0x10000);
      default: return failed = true, false;  // 0xc1
    }
  }

  template <class T> void field(Key key, T& v, Text rule = Text::word, bool optional = false) {
    if (failed) return;
    std::string_view k;
    const unsigned char* at = p;
    if (remaining > 0 && str(k) && k == key.name) {
      --remaining;
      if (is_nil() && (is_optional<T>::value || optional)) {
        p += 1;
        if constexpr (is_optional<T>::value) v.reset();
        return;
      }
      if constexpr (is_optional<T>::value) get(v.emplace(), rule);
      else get(v, rule);
      return;
    }
    failed = false;  // not this key (or none left): the field is absent
    p = at;
    if constexpr (is_optional<T>::value) v.reset();
    else if (!optional) failed = true;  // missing: the Reader says so
  }

  template <class T> void get(T& v, Text rule) {
    if constexpr (std::is_same_v<T, std::string>) {
      std::string_view s;
      if (!str(s) || text_problem(s, rule)) return void(failed = true);
      v.assign(s);
    } else if constexpr (std::is_same_v<T, bool>) {
      if (!need(1) || (*p != 0xc2 && *p != 0xc3)) return void(failed = true);
      v = *p++ == 0xc3;
    } else if constexpr (std::is_integral_v<T>) {
      std::uint64_t u = 0;
      if (!unsigned_int(u) || u > std::numeric_limits<T>::max()) return void(failed = true);
      v = static_cast<T>(u);
    } else if constexpr (std::is_same_v<T, Code>) {
      std::uint16_t c = 0;
      get(c, rule);
      v = static_cast<Code>(c);
    } else if constexpr (std::is_same_v<T, JobStatus>) {
      std::string_view s;
      auto st = str(s) ? parse_status(s) : std::nullopt;
      if (!st) return void(failed = true);
      v = *st;
    } else if constexpr (std::is_same_v<T, EventType>) {
      std::string_view s;
      auto t = str(s) ? parse_event_type(s) : std::nullopt;
      if (!t) return void(failed = true);
      v = *t;
    } else if constexpr (std::is_same_v<T, Any>) {
      const unsigned char* at = p;
      if (!canonical(static_cast<int>(Limits::max_depth))) return;
      if (static_cast<std::size_t>(p - at) > Limits::max_body) return void(failed = true);
      v.msgpack.assign(reinterpret_cast<const char*>(at), static_cast<std::size_t>(p - at));
    } else if constexpr (is_vector<T>::value) {
      std::uint32_t n = 0;
      if (!container(false, n) || n > Limits::max_page * 10) return void(failed = true);
      v.clear();
      v.resize(n);
      for (auto& e : v) {
        if (failed) return;
        if constexpr (std::is_same_v<typename T::value_type, std::string>) get(e, rule);
        else nested(e);
      }
    } else {
      nested(v);
    }
  }

  template <class M> void nested(M& m) {
    std::uint32_t n = 0;
    if (!container(true, n)) return;
    const std::uint32_t outer = remaining;
    remaining = n;
    describe(*this, m);
    if (remaining != 0) failed = true;  // keys it does not know, or out of order
    remaining = outer;
  }

  // A whole message that is one map of M's fields and nothing after it.
  template <class M> bool read(M& m) {
    nested(m);
    return !failed && p == end;
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
Result<msgpack::object> unpack(std::string_view bytes, std::size_t max = Limits::max_message) {
  if (bytes.size() > max) return Error{Code::too_large, "message body over " + std::to_string(max) + " bytes"};
  thread_local msgpack::zone zone;
  zone.clear();
  try {
    std::size_t off = 0;
    bool referenced = false;
    const msgpack::unpack_limit limit(1 << 18, 1 << 16, max, max, max, Limits::max_depth + 4);
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

template <class M>
Result<M> unpack_struct(std::string_view bytes, const char* what, bool fast = true,
                        std::size_t max = Limits::max_message) {
  if (fast && bytes.size() <= max) {
    M m{};
    const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
    if (FastReader{b, b + bytes.size()}.read(m)) return m;
  }
  auto oh = unpack(bytes, max);
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

namespace {

// A FastReader over a whole message that is one map; its header read.
std::optional<FastReader> fast_map(std::string_view body) {
  if (body.size() > Limits::max_message) return std::nullopt;
  const auto* b = reinterpret_cast<const unsigned char*>(body.data());
  FastReader r{b, b + body.size()};
  std::uint32_t n = 0;
  if (!r.container(true, n)) return std::nullopt;
  r.remaining = n;
  return r;
}

// decode_request's fast path: the form libclient writes, "cmd" and "rid"
// first (in either order), then the command's fields in describe() order.
std::optional<DecodedRequest> fast_request(std::string_view body) {
  auto r = fast_map(body);
  if (!r) return std::nullopt;
  std::string name;
  std::uint64_t rid = 0;
  const FastReader head = *r;
  r->field("cmd", name, Text::word);
  r->field("rid", rid);
  if (r->failed) {  // "rid" first?
    *r = head;
    r->field("rid", rid);
    r->field("cmd", name, Text::word);
  }
  if (r->failed) return std::nullopt;
  std::size_t index = 0;
  while (index < kCommandNames.size() && kCommandNames[index] != name) ++index;
  if (index == kCommandNames.size()) return std::nullopt;
  Command cmd = make_command(index);
  std::visit([&](auto& c) { describe(*r, c); }, cmd);
  if (r->failed || r->remaining != 0 || r->p != r->end) return std::nullopt;
  DecodedRequest out;
  out.rid = rid;
  out.command = std::move(cmd);
  return out;
}

// decode_reply's fast path: an ok reply as the broker writes it.
std::optional<Reply> fast_reply(std::string_view body, const ReplyBody& expected) {
  auto r = fast_map(body);
  if (!r) return std::nullopt;
  Reply out;
  std::uint16_t code = 0;
  r->field("rid", out.rid);
  r->field("code", code);
  r->field("message", out.message, Text::error, /*optional=*/true);
  if (r->failed || static_cast<Code>(code) != Code::ok) return std::nullopt;  // errors: the general reader
  out.code = Code::ok;
  out.body = expected;
  std::visit([&](auto& b) { describe(*r, b); }, out.body);
  if (r->failed || r->remaining != 0 || r->p != r->end) return std::nullopt;
  return out;
}

}  // namespace

DecodedRequest decode_request(std::string_view body) {
  if (auto fast = fast_request(body)) return std::move(*fast);
  return general::decode_request(body);
}

DecodedRequest general::decode_request(std::string_view body) {
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
    out.command = Error{Code::bad_request, "unknown command " + quote(name)};
    return out;
  }
  Command cmd = make_command(index);
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
  if (auto expected = reply_body_for(command))
    if (auto fast = fast_reply(body, *expected)) return std::move(*fast);
  return general::decode_reply(body, command);
}

Result<Reply> general::decode_reply(std::string_view body, std::string_view command) {
  auto expected = reply_body_for(command);
  if (!expected) return Error{Code::bad_request, "unknown command " + quote(command)};
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
Result<JobRecord> decode_job_record(std::string_view b) {
  return unpack_struct<JobRecord>(b, "job record", true, Limits::max_record);
}
Result<DatasourceRecord> decode_datasource_record(std::string_view b) {
  return unpack_struct<DatasourceRecord>(b, "datasource record");
}

namespace general {
Result<JobRecord> decode_job_record(std::string_view b) {
  return unpack_struct<JobRecord>(b, "job record", false, Limits::max_record);
}
Result<StatusNotice> decode_status_notice(std::string_view b) {
  return unpack_struct<StatusNotice>(b, "status notice", false);
}
Result<RequestEntry> decode_request_entry(std::string_view b) {
  return unpack_struct<RequestEntry>(b, "request entry", false);
}
Result<Event> decode_event(std::string_view b) { return unpack_struct<Event>(b, "event", false); }
}  // namespace general

Result<Any> canonical_any(std::string_view bytes) {
  auto oh = unpack(bytes);
  if (!oh) return oh.error();
  if (depth(*oh) > Limits::max_depth)
    return Error{Code::too_large, "nesting deeper than " + std::to_string(Limits::max_depth)};
  Any a{repack(*oh)};
  if (a.msgpack.size() > Limits::max_body) return Error{Code::too_large, "body over 1 MiB"};
  return a;
}

std::string quote(std::string_view s) {
  std::string out = "'";
  const std::size_t shown = std::min(s.size(), kQuoteMax);
  auto hex = [&](unsigned char c) {
    static constexpr char kDigits[] = "0123456789abcdef";
    out += "\\x";
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  };
  for (std::size_t i = 0; i < shown;) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f || c == '\\' || c == '\'') hex(c);
      else out += static_cast<char>(c);
      ++i;
      continue;
    }
    // A UTF-8 sequence: its length from the lead byte, then continuation
    // bytes; anything else (or a C1 control, U+0080..U+009F) byte by byte.
    const std::size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    bool ok = n != 0 && i + n <= shown;
    for (std::size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
    if (ok && c == 0xc2 && static_cast<unsigned char>(s[i + 1]) < 0xa0) ok = false;  // C1 control
    if (!ok) {
      hex(c);
      ++i;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  out += "'";
  if (shown < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

}  // namespace ledgerq::codec
