// The job lifecycle rule for driver updates, in one place.
//
//   submit --> submitted --+--> accepted <--> retrying
//                          |        |            |
//                          +--------+------------+--> complete | failed |
//                                                     cancelled | forbidden
//                                                     (terminal: final)
#pragma once

#include <optional>
#include <string>

#include "codec/messages.hpp"

namespace ledgerq::domain {

/// Why `from -> to` is refused, or nullopt when it is allowed. Only the
/// broker's submit makes a job `submitted`; from a terminal status nothing
/// moves (an identical repeat is answered as a no-op before this is asked).
std::optional<std::string> refuse_transition(JobStatus from, JobStatus to);

}  // namespace ledgerq::domain
