// Every job status, in the order of the enum: the one list that code
// walking all statuses (a count per status, a choice of filters) uses, so
// that a status added to JobStatus reaches it. status_name() and
// parse_status() (messages.hpp) give their wire names.
#pragma once

#include <array>

#include "messages.hpp"

namespace ledgerq {

inline constexpr std::array<JobStatus, 7> kJobStatuses = {
    JobStatus::submitted, JobStatus::accepted, JobStatus::complete, JobStatus::cancelled,
    JobStatus::forbidden, JobStatus::failed,   JobStatus::retrying};

}  // namespace ledgerq
