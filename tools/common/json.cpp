#include "json.hpp"

#include <array>
#include <type_traits>

#include "codec/binary_json.hpp"
#include "codec/codec.hpp"
#include "codec/fields.hpp"

namespace ledgerq::tools {
namespace {

template <class T> struct is_optional : std::false_type {};
template <class T> struct is_optional<std::optional<T>> : std::true_type {};
template <class T> struct is_vector : std::false_type {};
template <class T> struct is_vector<std::vector<T>> : std::true_type {};

std::string hex(std::string_view s) { return binary_json::to_hex(s); }

// --- struct -> JSON, over the codec's field model ---------------------------

template <class T> bool written(const T& v, bool omit_empty) {
  if constexpr (is_optional<T>::value) return v.has_value();
  else if constexpr (std::is_same_v<T, std::string> || is_vector<T>::value) return !omit_empty || !v.empty();
  else if constexpr (std::is_same_v<T, bool> || std::is_integral_v<T>) return !omit_empty || v != T{};
  else return true;
}

template <class T> json value(const T& v);

struct Writer {
  json& out;
  template <class T> void field(const char* key, T& v, codec::Text = codec::Text::word, bool omit = false) {
    if (!written(v, omit)) return;
    if constexpr (is_optional<T>::value) out[key] = value(*v);
    else out[key] = value(v);
  }
};

template <class T> json value(const T& v) {
  if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool>) return json(v);
  else if constexpr (std::is_integral_v<T>) return json(static_cast<std::uint64_t>(v));
  else if constexpr (std::is_same_v<T, Code>) return json(static_cast<std::uint64_t>(v));
  else if constexpr (std::is_same_v<T, JobStatus>) return json(std::string(status_name(v)));
  else if constexpr (std::is_same_v<T, EventType>) return json(std::string(event_type_name(v)));
  else if constexpr (std::is_same_v<T, Any>) return any_to_json(v);
  else if constexpr (is_vector<T>::value) {
    json a = json::array();
    for (const auto& e : v) a.push_back(value(e));
    return a;
  } else {
    json o = json::object();
    Writer w{o};
    codec::describe(w, const_cast<T&>(v));  // Writer only reads
    return o;
  }
}

// --- JSON -> struct ---------------------------------------------------------

struct Reader {
  const json& in;
  std::string prefix;
  std::optional<Error> error;

  void fail(std::string msg) {
    if (!error) error = Error{Code::bad_request, std::move(msg)};
  }

  template <class T> void field(const char* key, T& v, codec::Text = codec::Text::word, bool omit = false) {
    if (error) return;
    auto it = in.find(key);
    if constexpr (is_optional<T>::value) {
      if (it == in.end() || it->is_null()) return v.reset();
      v.emplace();
      get(key, *it, *v);
    } else {
      if (it == in.end() || (omit && it->is_null())) {
        if (!omit && !is_vector<T>::value && !std::is_same_v<T, bool>) fail("missing field '" + prefix + key + "'");
        return;
      }
      get(key, *it, v);
    }
  }

  template <class T> void get(const char* key, const json& j, T& v) {
    const std::string where = "field '" + prefix + key + "'";
    if constexpr (std::is_same_v<T, std::string>) {
      if (!j.is_string()) return fail(where + ": expected a string");
      v = j.get<std::string>();
    } else if constexpr (std::is_same_v<T, bool>) {
      if (!j.is_boolean()) return fail(where + ": expected true or false");
      v = j.get<bool>();
    } else if constexpr (std::is_integral_v<T>) {
      if (!j.is_number_unsigned()) return fail(where + ": expected an unsigned integer");
      const auto n = j.get<std::uint64_t>();
      if (n > std::numeric_limits<T>::max()) return fail(where + ": out of range");
      v = static_cast<T>(n);
    } else if constexpr (std::is_same_v<T, Code>) {
      std::uint16_t c = 0;
      get(key, j, c);
      v = static_cast<Code>(c);
    } else if constexpr (std::is_same_v<T, JobStatus>) {
      auto s = j.is_string() ? parse_status(j.get<std::string>()) : std::nullopt;
      if (!s) return fail(where + ": expected a status (submitted, accepted, complete, ...)");
      v = *s;
    } else if constexpr (std::is_same_v<T, EventType>) {
      auto t = j.is_string() ? parse_event_type(j.get<std::string>()) : std::nullopt;
      if (!t) return fail(where + ": expected an event type");
      v = *t;
    } else if constexpr (std::is_same_v<T, Any>) {
      auto a = any_from_json(j);
      if (!a) return fail(where + ": " + a.error().message);
      v = std::move(a).value();
    } else if constexpr (is_vector<T>::value) {
      if (!j.is_array()) return fail(where + ": expected an array");
      v.clear();
      v.resize(j.size());
      for (std::size_t i = 0; i < j.size() && !error; ++i) get((std::string(key) + "[" + std::to_string(i) + "]").c_str(), j[i], v[i]);
    } else {
      if (!j.is_object()) return fail(where + ": expected an object");
      Reader inner{j, prefix + key + ".", std::nullopt};
      codec::describe(inner, v);
      if (inner.error) error = inner.error;
    }
  }
};

// The Command alternative for each name, in variant order.
template <std::size_t... I>
std::optional<Command> make_command(std::string_view name, std::index_sequence<I...>) {
  std::optional<Command> out;
  ((command_name(Command{std::in_place_index<I>}) == name ? (out = Command{std::in_place_index<I>}, 0) : 0), ...);
  return out;
}

}  // namespace

json any_to_json(const Any& a) {
  if (a.msgpack.empty()) return json(nullptr);
  try {
    return binary_json::show(json::from_msgpack(a.msgpack));
  } catch (const std::exception&) {
    return json{{"$msgpack", hex(a.msgpack)}};  // not representable (ext types): shown raw
  }
}

Result<Any> any_from_json(const json& j) {
  try {
    const auto bytes = json::to_msgpack(binary_json::hide(j));
    return codec::canonical_any(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  } catch (const std::exception& e) {
    return Error{Code::bad_request, e.what()};
  }
}

json to_json(const StatusRecord& r) { return value(r); }
json to_json(const JobInfo& j) { return value(j); }
json to_json(const RequestEntry& e) { return value(e); }
json to_json(const StatusNotice& n) { return value(n); }
json to_json(const Event& e) { return value(e); }

json to_json(const Reply& r) {
  json o{{"rid", r.rid}, {"code", static_cast<std::uint64_t>(r.code)}};
  if (!r.message.empty()) o["message"] = r.message;
  if (r.code == Code::ok)
    std::visit([&](const auto& b) {
      Writer w{o};
      codec::describe(w, const_cast<std::decay_t<decltype(b)>&>(b));
    }, r.body);
  return o;
}

Result<Command> command_from_json(std::string_view name, const json& fields) {
  auto cmd = make_command(name, std::make_index_sequence<std::variant_size_v<Command>>{});
  if (!cmd) return Error{Code::bad_request, "unknown command '" + std::string(name) + "'"};
  if (!fields.is_object()) return Error{Code::bad_request, "the fields of a command are a JSON object"};
  Reader r{fields, "", std::nullopt};
  std::visit([&](auto& c) { codec::describe(r, c); }, *cmd);
  if (r.error) return *r.error;
  return std::move(*cmd);
}

}  // namespace ledgerq::tools
