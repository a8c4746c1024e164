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
  out.timestamp = e.timestamp;
  out.seq = e.seq;
  return out;
}

DatasourceInfo from_wire(const wire::DatasourceInfo& d) { return DatasourceInfo{d.datasource, d.created, d.seq}; }

}  // namespace ledgerq::client::detail
