// Conversions between the codec's wire structs (namespace ::ledgerq) and the
// public value types (namespace ledgerq::client). The only place both meet.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

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
JobInfo from_wire(const wire::JobInfo& j);
JobEvent from_wire(const wire::HistoryEvent& h);
ItemResult from_wire(const wire::reply::ItemResult& r);
JobOptions from_wire(const wire::JobOptions& o);
DatasourceOptions from_wire(const wire::DsOptions& o);
StatusCounts from_wire(const wire::StatusCounts& c);

/// nullopt for default (empty) options, so that the wire carries none. The
/// broker checks the values (priority 1..3, attempts >= 1, ...).
std::optional<wire::JobOptions> to_wire(const JobOptions& o);
/// Throws Error(bad_request) for durations the wire cannot hold (negative,
/// or over 2^32 - 1 ms).
wire::DsOptions to_wire(const DatasourceOptions& o);

std::string_view lifecycle_name(Lifecycle l) noexcept;
Lifecycle parse_lifecycle(std::string_view s) noexcept;
/// Milliseconds as the wire's uint32; Error(bad_request) naming `what` when
/// out of range.
std::uint32_t to_ms32(std::chrono::milliseconds d, std::string_view what);

}  // namespace ledgerq::client::detail
