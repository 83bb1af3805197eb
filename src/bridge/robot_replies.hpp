// Sends a webhook's robot-message reply back to the conversation (product.md sections 4
// and 10), for direct and spooled robot routes alike:
//
//   1. to the message's sessionWebhook, while it has not expired and passes the origin
//      check (session_webhook.hpp);
//   2. else, or when the sessionWebhook answers a failure (non-2xx, errcode != 0),
//      through the OpenAPI robot send (openapi_replies.hpp: access token, invalid-token
//      resend, rate limits waited out for the whole app).
//
// A sessionWebhook POST that got no answer at all (timeout, reset) is not sent again
// through the OpenAPI: it may have arrived, and a reply shown twice is worse than one
// counted as failed.
//
// Every reply's outcome is counted, dsb_robot_replies_total{route, via, outcome}:
//   via="session_webhook": sent | failed | expired | no_session_webhook | refused
//   via="openapi":         unmappable (here: no template takes it), and the outcomes
//                          openapi_replies.hpp lists
// and every one but a plain success is logged.
//
// Loop thread only. Timers and HTTP through ports.hpp, so the unit tests use fakes.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "bridge/openapi_replies.hpp"
#include "bridge/ports.hpp"
#include "bridge/robot_message.hpp"
#include "config/config.hpp"
#include "openapi/access_token_cache.hpp"

namespace dsb::bridge {

class RobotReplies {
 public:
  // A reply to DingTalk is one small POST to DingTalk's edge: its own bound, not the
  // route's timeout, which is sized for the webhook (up to 10m for a slow AI webhook) and
  // would let a reply hang that long on a dead connection before the fallback is tried.
  static constexpr std::chrono::milliseconds kSessionWebhookTimeout{10'000};

  // How an app's replies reach DingTalk (dingtalk_transport.hpp, resolved once per app).
  using TransportFor = std::function<deliver::Transport(const config::App&)>;

  // REQUIRES: the ports outlive this object. `dingtalk`: how every reply reaches DingTalk
  // (dingtalk_transport.hpp, resolved once). `random`: the OpenAPI backoff's jitter.
  RobotReplies(Webhooks& webhooks, Timers& timers, WallClock& clock,
               deliver::Transport dingtalk = {}, OpenApiReplies::Random random = {});
  // The same with a transport per app (the daemon's, one per app's proxy and CA).
  RobotReplies(Webhooks& webhooks, Timers& timers, WallClock& clock, TransportFor dingtalk,
               OpenApiReplies::Random random = {});
  ~RobotReplies();
  RobotReplies(const RobotReplies&) = delete;
  RobotReplies& operator=(const RobotReplies&) = delete;

  // Replies as `app` (its credentials, token cache and transport); `route` is one of its.
  // REQUIRES: is_robot_reply(reply).
  void send(const RobotMessage& robot, const config::Route& route, const config::App& app,
            const std::string& reply);

  // Token API calls made so far.
  uint64_t token_fetches() const;
  // `app`'s access-token cache (the one its OpenAPI sender uses), shared with the app's
  // OpenAPI endpoint (openapi/proxy.hpp); lives as long as this.
  openapi::AccessTokenCache& token_cache(const config::App& app);
  // OpenAPI sends waiting out a rate limit.
  size_t waiting() const;

 private:
  void send_to_session_webhook(const RobotMessage& robot, const config::Route& route,
                               const config::App& app, const std::string& reply);
  // Sends `reply` through the OpenAPI; `why` says why the sessionWebhook did not take it.
  void fall_back(const RobotMessage& robot, const std::string& route,
                 const openapi::AppCredentials& app, const std::string& reply,
                 const std::string& why);

  openapi::AppCredentials app_of(const config::App& app) const;

  Webhooks& webhooks_;
  WallClock& clock_;
  const TransportFor dingtalk_;
  // One per app (by client id), made on its first reply: DingTalk's rate limits and access
  // tokens are per app, so one app's limit never holds another app's replies.
  OpenApiReplies& openapi_of(const openapi::AppCredentials& app);
  Timers& timers_;
  OpenApiReplies::Random random_;
  std::map<std::string, std::unique_ptr<OpenApiReplies>> openapi_;
  // Answers that arrive after we are gone find this expired.
  std::shared_ptr<RobotReplies*> self_ = std::make_shared<RobotReplies*>(this);
};

}  // namespace dsb::bridge
