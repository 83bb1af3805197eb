// The emulator's HTTP routes, on top of a Gateway.
#pragma once

#include "emulator/gateway.hpp"
#include "httpd/router.hpp"

namespace dsb::emulator {

// The DingTalk-facing API: open connection, access token, sessionWebhook sink.
void add_public_routes(Gateway& gateway, httpd::Router& router);

// The test-facing /emulator/* API (documented in control_api.cpp).
void add_control_routes(Gateway& gateway, httpd::Router& router);

}  // namespace dsb::emulator
