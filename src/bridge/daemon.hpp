// `dingtalk-stream-bridge run`: wires the stages together for one validated Config and runs
// them until SIGTERM/SIGINT.
#pragma once

#include "config/config.hpp"

namespace dsb::bridge {

// Returns the process exit code: 0 after a clean stop, 1 on a runtime failure.
int run_daemon(const config::Config& config);

}  // namespace dsb::bridge
