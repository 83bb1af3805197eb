// Where a robot reply may be sent. A robot message's `sessionWebhook` comes with the frame,
// so the bridge must not take it on trust: a reply goes only to an https URL, or to the
// origin of `dingtalk.api_base` (same scheme, host and port: the emulator and test
// gateways serve plain http there). Anything else (gopher://, dict://, http:// to an
// internal service) is refused.
#pragma once

#include <string_view>

#include "common/status.hpp"

namespace dsb::bridge {

// OK when a reply may go to `session_webhook`; else why not (loggable: no URL in it).
// Both URLs are read by curl's own parser, so what is checked is what curl would connect to.
Status check_session_webhook(std::string_view session_webhook, std::string_view api_base);

}  // namespace dsb::bridge
