// The one model of ledgerq's msgpack maps: for every struct in messages.hpp,
// the keys it is encoded under, in canonical order, with the rule that checks
// each string. The encoder, the decoder and the spec's tables all follow this
// file; change a field here and in proto-spec/PROTOCOL.md in the same commit.
//
// A visitor V provides field(key, member[, rule]) for every member type used
// below, the key a Key or a const char*; codec.cpp has the counting, packing
// and reading visitors.
#pragma once

#include <cstddef>
#include <string_view>

#include "messages.hpp"

namespace ledgerq::codec {

/// A field's key: a string literal, so its length is known at compile time
/// and the codec's hot paths never strlen() it. Converts to a C string for
/// visitors that want one.
struct Key {
  std::string_view name;
  template <std::size_t N> consteval Key(const char (&s)[N]) : name(s, N - 1) {}  // NOLINT: implicit by design
  constexpr operator const char*() const { return name.data(); }                     // NOLINT: literals end in NUL
};

/// How a string field is checked on decode (limits are in PROTOCOL.md §5).
enum class Text {
  id,      ///< job, client, key and worker ids: 1..128 bytes, no NUL byte
  ds,      ///< datasource names and job types: 1..64 bytes of [A-Za-z0-9_.-]
  error,   ///< error messages and continuations: 0..4096 bytes
  word,    ///< fixed vocabulary (outcomes, lifecycles): 1..32 bytes
  custom,  ///< custom statuses: 0..1024 bytes
};

// Passing `optional` to field() for a member that is not std::optional
// means: omitted on the wire when empty, zero or false, and read as such
// when absent.
inline constexpr bool kOmitEmpty = true;

template <class V> void describe(V& v, JobOptions& m) {
  v.field("priority", m.priority);
  v.field("run_after", m.run_after);
  v.field("attempts", m.attempts);
  v.field("type", m.type, Text::ds, kOmitEmpty);
  v.field("key", m.key, Text::id, kOmitEmpty);
  v.field("lifecycle", m.lifecycle, Text::word, kOmitEmpty);
  v.field("custom_status", m.custom_status, Text::custom, kOmitEmpty);
}

template <class V> void describe(V& v, StatusRecord& m) {
  v.field("job", m.job, Text::id);
  v.field("client", m.client, Text::id);
  v.field("status", m.status);
  v.field("response", m.response);
  v.field("error", m.error, Text::error);
  v.field("submitted", m.submitted);
  v.field("updated", m.updated);
  v.field("cancel_requested", m.cancel_requested);
  v.field("priority", m.priority);
  v.field("run_after", m.run_after, Text::word, kOmitEmpty);
  v.field("attempts", m.attempts);
  v.field("attempts_made", m.attempts_made, Text::word, kOmitEmpty);
  v.field("type", m.type, Text::ds, kOmitEmpty);
  v.field("key", m.key, Text::id, kOmitEmpty);
  v.field("lifecycle", m.lifecycle, Text::word, kOmitEmpty);
  v.field("custom_status", m.custom_status, Text::custom, kOmitEmpty);
  v.field("worker", m.worker, Text::id, kOmitEmpty);
  v.field("lease_until", m.lease_until, Text::word, kOmitEmpty);
  v.field("token", m.token, Text::word, kOmitEmpty);
}

template <class V> void describe(V& v, JobInfo& m) {
  describe(v, m.state);
  v.field("request", m.request);
}

template <class V> void describe(V& v, JobRecord& m) {
  describe(v, m.state);
  v.field("request", m.request);
  v.field("waiting", m.waiting, Text::word, kOmitEmpty);
  v.field("order", m.order);
}

template <class V> void describe(V& v, DsOptions& m) {
  v.field("max_pending", m.max_pending, Text::word, kOmitEmpty);
  v.field("dequeue_rate", m.dequeue_rate, Text::word, kOmitEmpty);
  v.field("lease_ms", m.lease_ms, Text::word, kOmitEmpty);
  v.field("retry_base_ms", m.retry_base_ms, Text::word, kOmitEmpty);
  v.field("retry_cap_ms", m.retry_cap_ms, Text::word, kOmitEmpty);
  v.field("resources", m.resources, Text::word, kOmitEmpty);
  v.field("paused", m.paused, Text::word, kOmitEmpty);
}

template <class V> void describe(V& v, StatusCounts& m) {
  v.field("submitted", m.submitted);
  v.field("accepted", m.accepted);
  v.field("complete", m.complete);
  v.field("cancelled", m.cancelled);
  v.field("forbidden", m.forbidden);
  v.field("failed", m.failed);
  v.field("retrying", m.retrying);
}

template <class V> void describe(V& v, DatasourceRecord& m) {
  v.field("created", m.created);
  v.field("seq", m.seq);
  v.field("options", m.options);
  v.field("deleting", m.deleting, Text::word, kOmitEmpty);
}

template <class V> void describe(V& v, KeyState& m) {
  v.field("exists", m.exists);
  v.field("tail", m.tail);
}

template <class V> void describe(V& v, Tombstone& m) {
  v.field("client", m.client, Text::id);
  v.field("digest", m.digest, Text::word);
  v.field("submitted", m.submitted);
  v.field("status", m.status);
}

template <class V> void describe(V& v, RequestEntry& m) {
  v.field("datasource", m.datasource, Text::ds);
  v.field("type", m.type, Text::word);
  v.field("job", m.job, Text::id);
  v.field("client", m.client, Text::id);
  v.field("request", m.request);
  v.field("options", m.options);
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
  v.field("options", m.options);
  v.field("counts", m.counts);
}

template <class V> void describe(V& v, Event& m) {
  v.field("type", m.type);
  v.field("datasource", m.datasource, Text::ds);
  v.field("job", m.job, Text::id, kOmitEmpty);
  v.field("client", m.client, Text::id, kOmitEmpty);
  v.field("request", m.request);
  v.field("options", m.options);
  v.field("status", m.status);
  v.field("response", m.response);
  v.field("error", m.error, Text::error);
  v.field("worker", m.worker, Text::id, kOmitEmpty);
  v.field("token", m.token, Text::word, kOmitEmpty);
  v.field("lease_until", m.lease_until, Text::word, kOmitEmpty);
  v.field("run_after", m.run_after);
  v.field("attempts", m.attempts);
  v.field("priority", m.priority);
  v.field("custom_status", m.custom_status, Text::custom);
  v.field("ds_options", m.ds_options);
  v.field("limit", m.limit);
}

template <class V> void describe(V& v, HistoryEvent& m) {
  v.field("at", m.at);
  describe(v, m.event);
}

// Commands: the keys that follow "cmd" and "rid" in a request map.
template <class V> void describe(V&, cmd::Ping&) {}
template <class V> void describe(V& v, cmd::DsCreate& m) {
  v.field("datasource", m.datasource, Text::ds);
  v.field("options", m.options);
}
template <class V> void describe(V& v, cmd::DsConfigure& m) {
  v.field("datasource", m.datasource, Text::ds);
  v.field("options", m.options);
}
template <class V> void describe(V& v, cmd::DsDelete& m) { v.field("datasource", m.datasource, Text::ds); }
template <class V> void describe(V&, cmd::DsList&) {}
template <class V> void describe(V& v, cmd::Submit& m) {
  v.field("datasource", m.datasource, Text::ds);
  v.field("job", m.job, Text::id);
  v.field("client", m.client, Text::id);
  v.field("request", m.request);
  v.field("options", m.options);
}
template <class V> void describe(V& v, cmd::BatchJob& m) {
  v.field("job", m.job, Text::id);
  v.field("request", m.request);
  v.field("options", m.options);
}
template <class V> void describe(V& v, cmd::SubmitBatch& m) {
  v.field("datasource", m.datasource, Text::ds);
  v.field("client", m.client, Text::id);
  v.field("jobs", m.jobs);
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
template <class V> void describe(V& v, cmd::AckItem& m) {
  v.field("job", m.job, Text::id);
  v.field("token", m.token);
  v.field("outcome", m.outcome, Text::word);
  v.field("response", m.response);
  v.field("error", m.error, Text::error);
  v.field("retry_delay_ms", m.retry_delay_ms);
  v.field("custom_status", m.custom_status, Text::custom, kOmitEmpty);
}
template <class V> void describe(V& v, cmd::Ack& m) {
  v.field("datasource", m.datasource, Text::ds);
  v.field("acks", m.acks);
}
template <class V> void describe(V& v, cmd::Dequeue& m) {
  v.field("datasource", m.datasource, Text::ds);
  v.field("worker", m.worker, Text::id);
  v.field("limit", m.limit);
  v.field("types", m.types, Text::ds);
  v.field("lease_ms", m.lease_ms);
  v.field("wait_ms", m.wait_ms);
  v.field("dry_run", m.dry_run, Text::word, kOmitEmpty);
  v.field("acks", m.acks, Text::word, kOmitEmpty);
  v.field("dequeue_id", m.dequeue_id, Text::id, kOmitEmpty);
}
template <class V> void describe(V& v, cmd::Checkpoint& m) {
  v.field("datasource", m.datasource, Text::ds);
  v.field("job", m.job, Text::id);
  v.field("token", m.token);
  v.field("lease_ms", m.lease_ms);
  v.field("request", m.request);
  v.field("custom_status", m.custom_status, Text::custom);
  v.field("to_pending", m.to_pending, Text::word, kOmitEmpty);
  v.field("run_after", m.run_after);
  v.field("attempts", m.attempts);
}
template <class V> void describe(V& v, cmd::Lookup& m) {
  v.field("datasource", m.datasource, Text::ds);
  v.field("jobs", m.jobs, Text::id);
  v.field("bodies", m.bodies, Text::word, kOmitEmpty);
}
template <class V> void describe(V& v, cmd::Count& m) {
  v.field("datasource", m.datasource, Text::ds);
  v.field("status", m.status);
  v.field("priority", m.priority);
  v.field("due", m.due, Text::word, kOmitEmpty);
}
template <class V> void describe(V& v, cmd::JobFilter& m) {
  v.field("status", m.status);
  v.field("type", m.type, Text::ds, kOmitEmpty);
  v.field("key", m.key, Text::id, kOmitEmpty);
  v.field("client", m.client, Text::id, kOmitEmpty);
  v.field("priority", m.priority);
}
template <class V> void describe(V& v, cmd::Scan& m) {
  v.field("datasource", m.datasource, Text::ds);
  describe(v, m.filter);
  v.field("limit", m.limit);
  v.field("continuation", m.continuation, Text::error, kOmitEmpty);
}
template <class V> void describe(V& v, cmd::Retry& m) {
  v.field("datasource", m.datasource, Text::ds);
  v.field("attempts", m.attempts);
  v.field("priority", m.priority);
  v.field("run_after", m.run_after);
  v.field("limit", m.limit);
  v.field("jobs", m.jobs, Text::id);
}
template <class V> void describe(V&, cmd::Stats&) {}
template <class V> void describe(V& v, cmd::Delete& m) {
  v.field("datasource", m.datasource, Text::ds);
  describe(v, m.filter);
  v.field("limit", m.limit);
  v.field("jobs", m.jobs, Text::id);
}

template <class V> void describe(V& v, cmd::History& m) {
  v.field("datasource", m.datasource, Text::ds);
  v.field("job", m.job, Text::id);
  v.field("continuation", m.continuation, Text::error, kOmitEmpty);
}

// Reply bodies: the keys that follow "rid", "code" (and "message") in a reply.
template <class V> void describe(V&, reply::Empty&) {}
template <class V> void describe(V& v, reply::Ping& m) {
  v.field("version", m.version);
  v.field("now", m.now);
  v.field("release", m.release, Text::error, kOmitEmpty);
}
template <class V> void describe(V& v, reply::DsCreate& m) { v.field("created", m.created); }
template <class V> void describe(V& v, reply::DsConfigure& m) { v.field("options", m.options); }
template <class V> void describe(V& v, reply::DsDelete& m) { v.field("deleted", m.deleted); }
template <class V> void describe(V& v, reply::DsList& m) { v.field("datasources", m.datasources); }
template <class V> void describe(V& v, reply::Submit& m) {
  v.field("job", m.job, Text::id);
  v.field("client", m.client, Text::id);
  v.field("timestamp", m.timestamp);
  v.field("duplicate", m.duplicate);
}
template <class V> void describe(V& v, reply::ItemResult& m) {
  v.field("job", m.job, Text::id);
  v.field("code", m.code);
  v.field("message", m.message, Text::error, kOmitEmpty);
  v.field("timestamp", m.timestamp, Text::word, kOmitEmpty);
  v.field("duplicate", m.duplicate, Text::word, kOmitEmpty);
}
template <class V> void describe(V& v, reply::SubmitBatch& m) { v.field("results", m.results); }
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
template <class V> void describe(V& v, reply::Dequeue& m) {
  v.field("jobs", m.jobs);
  v.field("acks", m.acks, Text::word, kOmitEmpty);
}
template <class V> void describe(V& v, reply::Ack& m) { v.field("results", m.results); }
template <class V> void describe(V& v, reply::Lookup& m) {
  v.field("jobs", m.jobs);
  v.field("more", m.more, Text::word, kOmitEmpty);
}
template <class V> void describe(V& v, reply::Count& m) {
  v.field("count", m.count);
  v.field("capped", m.capped, Text::word, kOmitEmpty);
}
template <class V> void describe(V& v, reply::Scan& m) {
  v.field("jobs", m.jobs);
  v.field("continuation", m.continuation, Text::error);
}
template <class V> void describe(V& v, reply::Retry& m) { v.field("retried", m.retried); }
template <class V> void describe(V& v, reply::Delete& m) { v.field("deleted", m.deleted); }
template <class V> void describe(V& v, reply::DsStats& m) {
  v.field("datasource", m.datasource, Text::ds);
  v.field("counts", m.counts);
  v.field("oldest_pending", m.oldest_pending);
  v.field("submitted_1m", m.submitted_1m);
  v.field("completed_1m", m.completed_1m);
}
template <class V> void describe(V& v, reply::Stats& m) {
  v.field("version", m.version);
  v.field("release", m.release, Text::error, kOmitEmpty);
  v.field("now", m.now);
  v.field("started", m.started);
  v.field("requests", m.requests);
  v.field("transactions", m.transactions);
  v.field("apply_us", m.apply_us);
  v.field("commit_us", m.commit_us);
  v.field("bad_requests", m.bad_requests);
  v.field("parked", m.parked);
  v.field("expired", m.expired);
  v.field("collected", m.collected);
  v.field("trimmed", m.trimmed);
  v.field("log_entries", m.log_entries);
  v.field("log_bytes", m.log_bytes);
  v.field("log_first", m.log_first);
  v.field("notice_bytes", m.notice_bytes, Text::word, kOmitEmpty);
  v.field("map_size", m.map_size);
  v.field("map_used", m.map_used);
  v.field("map_limit", m.map_limit, Text::word, kOmitEmpty);
  v.field("peers", m.peers);
  v.field("status_subscriptions", m.status_subscriptions);
  v.field("request_subscriptions", m.request_subscriptions);
  v.field("datasources", m.datasources);
}

template <class V> void describe(V& v, reply::History& m) {
  v.field("events", m.events);
  v.field("continuation", m.continuation, Text::error);
}

}  // namespace ledgerq::codec
