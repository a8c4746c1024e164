// Conversions between the codec's wire structs (namespace ::ledgerq) and the
// public value types (namespace ledgerq::client). The only place both meet.
#pragma once

#include "codec/messages.hpp"
#include "ledgerq/types.hpp"

namespace ledgerq::client::detail {

namespace wire = ::ledgerq;

JobStatus from_wire(wire::JobStatus s) noexcept;
wire::JobStatus to_wire(JobStatus s) noexcept;
Payload from_wire(const wire::Any& a);
wire::Any to_wire(const Payload& p);
StatusRecord from_wire(const wire::StatusRecord& r);
StatusNotice from_wire(const wire::StatusNotice& n);
RequestEntry from_wire(const wire::RequestEntry& e);
DatasourceInfo from_wire(const wire::DatasourceInfo& d);

}  // namespace ledgerq::client::detail
