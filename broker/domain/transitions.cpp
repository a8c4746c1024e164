#include "transitions.hpp"

namespace ledgerq::domain {

std::optional<std::string> refuse_transition(JobStatus from, JobStatus to) {
  if (to == JobStatus::submitted)
    return std::string("status 'submitted' is set by submit only");
  if (is_terminal(from))
    return "job is " + std::string(status_name(from)) + "; terminal statuses are final";
  return std::nullopt;
}

}  // namespace ledgerq::domain
