// libwebsockets' own log lines, routed through our logger: errors as warnings, everything
// else at debug, and any "ticket=..." redacted (tickets are credentials for 90 s).
#pragma once

#include <string>

namespace dsb::loop {

// Idempotent; call before creating an lws context.
void route_lws_logs();

// Replaces the value of every "ticket=" in `text` with "***".
void redact_ticket(std::string& text);

}  // namespace dsb::loop
