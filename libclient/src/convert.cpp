#include "convert.hpp"

namespace ledgerq::client::detail {

JobStatus from_wire(wire::JobStatus s) noexcept {
  switch (s) {
    case wire::JobStatus::submitted: return JobStatus::submitted;
    case wire::JobStatus::accepted: return JobStatus::accepted;
    case wire::JobStatus::complete: return JobStatus::complete;
    case wire::JobStatus::cancelled: return JobStatus::cancelled;
    case wire::JobStatus::forbidden: return JobStatus::forbidden;
    case wire::JobStatus::failed: return JobStatus::failed;
    case wire::JobStatus::retrying: return JobStatus::retrying;
  }
  return JobStatus::submitted;
}

wire::JobStatus to_wire(JobStatus s) noexcept {
  switch (s) {
    case JobStatus::submitted: return wire::JobStatus::submitted;
    case JobStatus::accepted: return wire::JobStatus::accepted;
    case JobStatus::complete: return wire::JobStatus::complete;
    case JobStatus::cancelled: return wire::JobStatus::cancelled;
    case JobStatus::forbidden: return wire::JobStatus::forbidden;
    case JobStatus::failed: return wire::JobStatus::failed;
    case JobStatus::retrying: return wire::JobStatus::retrying;
  }
  return wire::JobStatus::submitted;
}

// The codec keeps nil as an empty Any; a Payload keeps it as "\xc0".
Payload from_wire(const wire::Any& a) {
  return a.msgpack.empty() ? Payload() : Payload::from_msgpack(a.msgpack);
}

wire::Any to_wire(const Payload& p) { return wire::Any{p.msgpack()}; }

StatusRecord from_wire(const wire::StatusRecord& r) {
  StatusRecord out;
  out.job = r.job;
  out.client = r.client;
  out.status = from_wire(r.status);
  if (r.response) out.response = from_wire(*r.response);
  out.error = r.error;
  out.submitted = r.submitted;
  out.updated = r.updated;
  out.cancel_requested = r.cancel_requested;
  out.priority = r.priority;
  out.run_after = r.run_after;
  out.attempts = r.attempts;
  out.attempts_made = r.attempts_made;
  out.type = r.type;
  out.key = r.key;
  out.lifecycle = parse_lifecycle(r.lifecycle);
  out.custom_status = r.custom_status;
  out.worker = r.worker;
  out.lease_until = r.lease_until;
  out.token = r.token;
  return out;
}

StatusNotice from_wire(const wire::StatusNotice& n) {
  return StatusNotice{n.datasource, from_wire(n.data), n.timestamp, n.seq};
}

RequestEntry from_wire(const wire::RequestEntry& e) {
  RequestEntry out;
  out.datasource = e.datasource;
  out.type = e.type == "request" ? EntryType::request : e.type == "cancel" ? EntryType::cancel : EntryType::other;
  out.job = e.job;
  out.client = e.client;
  if (e.request) out.request = from_wire(*e.request);
  if (e.options) out.options = from_wire(*e.options);
  out.timestamp = e.timestamp;
  out.seq = e.seq;
  return out;
}

DatasourceInfo from_wire(const wire::DatasourceInfo& d) {
  return DatasourceInfo{d.datasource, d.created, d.seq, from_wire(d.options), from_wire(d.counts)};
}

JobInfo from_wire(const wire::JobInfo& j) {
  JobInfo out;
  out.state = from_wire(j.state);
  if (j.request) out.request = from_wire(*j.request);
  return out;
}

JobEvent from_wire(const wire::HistoryEvent& h) {
  const wire::Event& e = h.event;
  JobEvent out;
  out.at = h.at;
  out.type = std::string(wire::event_type_name(e.type));
  out.datasource = e.datasource;
  out.job = e.job;
  out.client = e.client;
  if (e.request) out.request = from_wire(*e.request);
  if (e.options) out.options = from_wire(*e.options);
  if (e.status) out.status = from_wire(*e.status);
  if (e.response) out.response = from_wire(*e.response);
  out.error = e.error;
  out.worker = e.worker;
  out.token = e.token;
  out.lease_until = e.lease_until;
  out.run_after = e.run_after;
  out.attempts = e.attempts;
  out.priority = e.priority;
  out.custom_status = e.custom_status;
  return out;
}

ItemResult from_wire(const wire::reply::ItemResult& r) {
  return ItemResult{r.job, static_cast<Code>(r.code), r.message, r.timestamp, r.duplicate};
}

JobOptions from_wire(const wire::JobOptions& o) {
  JobOptions out;
  out.priority = o.priority;
  out.run_after = o.run_after;
  out.attempts = o.attempts;
  out.type = o.type;
  out.key = o.key;
  out.lifecycle = parse_lifecycle(o.lifecycle);
  out.custom_status = o.custom_status;
  return out;
}

DatasourceOptions from_wire(const wire::DsOptions& o) {
  DatasourceOptions out;
  out.max_pending = o.max_pending;
  out.dequeue_rate = o.dequeue_rate;
  out.lease = std::chrono::milliseconds(o.lease_ms);
  out.retry_base = std::chrono::milliseconds(o.retry_base_ms);
  out.retry_cap = std::chrono::milliseconds(o.retry_cap_ms);
  out.resources = o.resources;
  out.paused = o.paused;
  return out;
}

StatusCounts from_wire(const wire::StatusCounts& c) {
  return StatusCounts{c.submitted, c.accepted, c.complete, c.cancelled, c.forbidden, c.failed, c.retrying};
}

std::optional<wire::JobOptions> to_wire(const JobOptions& o) {
  if (o.empty()) return std::nullopt;
  wire::JobOptions out;
  out.priority = o.priority;
  out.run_after = o.run_after;
  out.attempts = o.attempts;
  out.type = o.type;
  out.key = o.key;
  out.lifecycle = std::string(lifecycle_name(o.lifecycle));
  out.custom_status = o.custom_status;
  return out;
}

std::uint32_t to_ms32(std::chrono::milliseconds d, std::string_view what) {
  if (d.count() < 0 || d.count() > 0xffffffffLL)
    throw Error(Code::bad_request, std::string(what) + " must be 0 to 4294967295 ms");
  return static_cast<std::uint32_t>(d.count());
}

wire::DsOptions to_wire(const DatasourceOptions& o) {
  wire::DsOptions out;
  out.max_pending = o.max_pending;
  out.dequeue_rate = o.dequeue_rate;
  out.lease_ms = to_ms32(o.lease, "lease");
  out.retry_base_ms = to_ms32(o.retry_base, "retry_base");
  out.retry_cap_ms = to_ms32(o.retry_cap, "retry_cap");
  out.resources = o.resources;
  out.paused = o.paused;
  return out;
}

std::string_view lifecycle_name(Lifecycle l) noexcept {
  switch (l) {
    case Lifecycle::none: return "";
    case Lifecycle::create: return "create";
    case Lifecycle::destroy: return "delete";
  }
  return "";
}

Lifecycle parse_lifecycle(std::string_view s) noexcept {
  if (s == "create") return Lifecycle::create;
  if (s == "delete") return Lifecycle::destroy;
  return Lifecycle::none;
}

}  // namespace ledgerq::client::detail
