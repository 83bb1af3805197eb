// How every HTTP request the bridge sends to DingTalk over the webhook client (robot
// replies to a sessionWebhook, their OpenAPI fallback, access-token fetches) reaches it:
// the same way as the Stream connection, through dingtalk.proxy (else HTTPS_PROXY /
// https_proxy) and trusting dingtalk.ca_file on top of the system CAs. Built here only,
// as one deliver::Transport, so a new request to DingTalk cannot take the proxy and miss
// the CA (behind a TLS-inspecting proxy it would then fail verification).
#pragma once

#include "config/config.hpp"
#include "deliver/request.hpp"

namespace dsb::bridge {

deliver::Transport dingtalk_transport(const config::Config& config);

}  // namespace dsb::bridge
