// The one model of ledgerq's msgpack maps: for every struct in messages.hpp,
// the keys it is encoded under, in canonical order, with the rule that checks
// each string. The encoder, the decoder and the spec's tables all follow this
// file; change a field here and in proto-spec/PROTOCOL.md in the same commit.
//
// A visitor V provides field(key, member[, rule]) for every member type used
// below; codec.cpp has the counting, packing and reading visitors.
#pragma once

#include "messages.hpp"

namespace ledgerq::codec {

/// How a string field is checked on decode (limits are in PROTOCOL.md §5).
enum class Text {
  id,     ///< job and client ids: 1..128 bytes, no NUL byte
  ds,     ///< datasource names: 1..64 bytes of [A-Za-z0-9_.-]
  error,  ///< error messages: 0..4096 bytes
  word,   ///< fixed vocabulary (types): 1..32 bytes
};

template <class V> void describe(V& v, StatusRecord& m) {
  v.field("job", m.job, Text::id);
  v.field("client", m.client, Text::id);
  v.field("status", m.status);
  v.field("response", m.response);
  v.field("error", m.error, Text::error);
  v.field("submitted", m.submitted);
  v.field("updated", m.updated);
  v.field("cancel_requested", m.cancel_requested);
}

template <class V> void describe(V& v, JobRecord& m) {
  describe(v, m.state);
  v.field("request", m.request);
}

template <class V> void describe(V& v, DatasourceRecord& m) {
  v.field("created", m.created);
  v.field("seq", m.seq);
}

template <class V> void describe(V& v, RequestEntry& m) {
  v.field("datasource", m.datasource, Text::ds);
  v.field("type", m.type, Text::word);
  v.field("job", m.job, Text::id);
  v.field("client", m.client, Text::id);
  v.field("request", m.request);
  v.field("timestamp", m.timestamp);
  v.field("seq", m.seq);
}

template <class V> void describe(V& v, StatusNotice& m) {
  v.field("datasource", m.datasource, Text::ds);
  v.field("job", m.data.job, Text::id);
  v.field("client", m.data.client, Text::id);
  v.field("data", m.data);
  v.field("timestamp", m.timestamp);
  v.field("seq", m.seq);
}

template <class V> void describe(V& v, DatasourceInfo& m) {
  v.field("datasource", m.datasource, Text::ds);
  v.field("created", m.created);
  v.field("seq", m.seq);
}

template <class V> void describe(V& v, Event& m) {
  v.field("type", m.type);
  v.field("datasource", m.datasource, Text::ds);
  v.field("job", m.job, Text::id, /*optional=*/true);
  v.field("client", m.client, Text::id, /*optional=*/true);
  v.field("request", m.request);
  v.field("status", m.status);
  v.field("response", m.response);
  v.field("error", m.error, Text::error);
}

// Commands: the keys that follow "cmd" and "rid" in a request map.
template <class V> void describe(V&, cmd::Ping&) {}
template <class V> void describe(V& v, cmd::DsCreate& m) { v.field("datasource", m.datasource, Text::ds); }
template <class V> void describe(V& v, cmd::DsDelete& m) { v.field("datasource", m.datasource, Text::ds); }
template <class V> void describe(V&, cmd::DsList&) {}
template <class V> void describe(V& v, cmd::Submit& m) {
  v.field("datasource", m.datasource, Text::ds);
  v.field("job", m.job, Text::id);
  v.field("client", m.client, Text::id);
  v.field("request", m.request);
}
template <class V> void describe(V& v, cmd::Cancel& m) {
  v.field("datasource", m.datasource, Text::ds);
  v.field("job", m.job, Text::id);
  v.field("client", m.client, Text::id);
}
template <class V> void describe(V& v, cmd::Status& m) {
  v.field("datasource", m.datasource, Text::ds);
  v.field("job", m.job, Text::id);
  v.field("client", m.client, Text::id);
}
template <class V> void describe(V& v, cmd::Update& m) {
  v.field("datasource", m.datasource, Text::ds);
  v.field("job", m.job, Text::id);
  v.field("status", m.status);
  v.field("response", m.response);
  v.field("error", m.error, Text::error);
}
template <class V> void describe(V& v, cmd::Latest& m) { v.field("datasource", m.datasource, Text::ds); }
template <class V> void describe(V& v, cmd::Since& m) {
  v.field("datasource", m.datasource, Text::ds);
  v.field("timestamp", m.timestamp);
  v.field("limit", m.limit);
}
template <class V> void describe(V& v, cmd::Missed& m) {
  v.field("client", m.client, Text::id);
  v.field("seq", m.seq);
  v.field("limit", m.limit);
}

// Reply bodies: the keys that follow "rid", "code" (and "message") in a reply.
template <class V> void describe(V&, reply::Empty&) {}
template <class V> void describe(V& v, reply::Ping& m) {
  v.field("version", m.version);
  v.field("now", m.now);
}
template <class V> void describe(V& v, reply::DsCreate& m) { v.field("created", m.created); }
template <class V> void describe(V& v, reply::DsDelete& m) { v.field("deleted", m.deleted); }
template <class V> void describe(V& v, reply::DsList& m) { v.field("datasources", m.datasources); }
template <class V> void describe(V& v, reply::Submit& m) {
  v.field("job", m.job, Text::id);
  v.field("client", m.client, Text::id);
  v.field("timestamp", m.timestamp);
  v.field("duplicate", m.duplicate);
}
template <class V> void describe(V& v, reply::Status& m) { v.field("status", m.status); }
template <class V> void describe(V& v, reply::Latest& m) { v.field("request", m.request); }
template <class V> void describe(V& v, reply::Since& m) {
  v.field("requests", m.requests);
  v.field("next", m.next);
  v.field("more", m.more);
}
template <class V> void describe(V& v, reply::Missed& m) {
  v.field("notices", m.notices);
  v.field("next", m.next);
  v.field("more", m.more);
  v.field("last", m.last);
}

}  // namespace ledgerq::codec
