// How everything the bridge sends to DingTalk reaches it: the Stream connection (open call
// and websocket) and every HTTP request over the webhook client (robot replies to a
// sessionWebhook, their OpenAPI fallback, access-token fetches). Through dingtalk.proxy,
// else HTTPS_PROXY / https_proxy, trusting dingtalk.ca_file on top of the system CAs.
//
// Resolved once, at daemon start, by stream::resolve_proxy's rules, and handed to both:
// the proxy cannot differ between the Stream and the replies, and an unusable value (a
// bad HTTPS_PROXY) is logged once and sends both directly. Like the Stream's, the
// settings take effect on restart. One deliver::Transport for the HTTP side, so a new
// request to DingTalk cannot take the proxy and miss the CA (behind a TLS-inspecting
// proxy it would then fail verification).
#pragma once

#include <optional>
#include <string>

#include "config/config.hpp"
#include "deliver/request.hpp"
#include "stream/proxy.hpp"

namespace dsb::bridge {

struct DingTalkTransport {
  std::optional<stream::Proxy> proxy;  // nullopt: direct
  std::string ca_file;                 // "" = system CAs only

  // For requests over the webhook client.
  deliver::Transport http() const;
};

// Logs an unusable proxy setting (and that both go direct). `getenv_fn` reads the process
// environment in the daemon, a table in tests.
DingTalkTransport resolve_dingtalk_transport(const config::App& app,
                                             const stream::Getenv& getenv_fn);

}  // namespace dsb::bridge
