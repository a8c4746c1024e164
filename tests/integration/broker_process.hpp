// The broker process for tests: tools/common/broker_process.hpp with the
// path of the ledgerq-broker this build made.
#pragma once

#include "common/broker_process.hpp"

#ifndef LEDGERQ_BROKER_PATH
#error "LEDGERQ_BROKER_PATH must name the ledgerq-broker executable"
#endif

namespace ledgerq::testing {

using tools::ChildProcess;
using tools::TempDir;

class BrokerProcess : public tools::BrokerProcess {
 public:
  explicit BrokerProcess(const std::filesystem::path& data, std::vector<std::string> extra = {},
                         const std::filesystem::path& log_file = {})
      : tools::BrokerProcess(LEDGERQ_BROKER_PATH, data, std::move(extra), log_file) {}
};

/// Runs the broker to completion with `args` (for flag and start-up
/// errors); returns its exit status and what it wrote.
inline std::pair<int, std::string> run_broker_once(const std::vector<std::string>& args) {
  return tools::run_once(LEDGERQ_BROKER_PATH, args);
}

}  // namespace ledgerq::testing
