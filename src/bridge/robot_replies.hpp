// Sends a webhook's robot-message reply back to the conversation (product.md sections 4
// and 10), for direct and spooled robot routes alike:
//
//   1. to the message's sessionWebhook, while it has not expired and passes the origin
//      check (session_webhook.hpp);
//   2. else, or when the sessionWebhook answers a failure (non-2xx, errcode != 0),
//      through the OpenAPI robot send (robot_openapi_send.hpp) with the app's access
//      token (openapi/access_token_cache.hpp): an invalid-token answer drops the token and
//      sends once more with a fresh one; a rate-limit answer is sent again after
//      kRateLimitBackoff (or the Retry-After asked for, if longer), up to kMaxAttempts.
//
// A sessionWebhook POST that got no answer at all (timeout, reset) is not sent again
// through the OpenAPI: it may have arrived, and a reply shown twice is worse than one
// counted as failed.
//
// Every reply's outcome is counted, dsb_robot_replies_total{route, via, outcome}:
//   via="session_webhook": sent | failed | expired | no_session_webhook | refused
//   via="openapi":         sent | failed | unmappable | rate_limited (an answer that is
//                          retried later; the reply then ends sent or failed, failed
//                          also when the bridge stops while it waits)
// and every one but a plain success is logged.
//
// Loop thread only. Timers and HTTP through ports.hpp, so the unit tests use fakes.
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>

#include "bridge/ports.hpp"
#include "bridge/robot_message.hpp"
#include "config/config.hpp"
#include "openapi/access_token_cache.hpp"

namespace dsb::bridge {

class RobotReplies {
 public:
  static constexpr int kMaxAttempts = 5;  // OpenAPI sends of one reply, rate limits included
  // The wait before the 2nd, 3rd, ... send of a rate-limited reply: the first retries ride
  // out a burst, the last ones DingTalk's per-minute robot quota.
  static constexpr std::array<std::chrono::milliseconds, kMaxAttempts - 1> kRateLimitBackoff{
      std::chrono::milliseconds(1'000), std::chrono::milliseconds(2'000),
      std::chrono::milliseconds(30'000), std::chrono::milliseconds(60'000)};
  static constexpr std::chrono::milliseconds kMaxRetryAfter{120'000};
  // A reply to DingTalk is one small POST to DingTalk's edge: its own bound, not the
  // route's timeout, which is sized for the webhook (up to 10m for a slow AI webhook) and
  // would let a reply hang that long on a dead connection before the fallback is tried.
  static constexpr std::chrono::milliseconds kSessionWebhookTimeout{10'000};
  static constexpr std::chrono::milliseconds kOpenApiTimeout{10'000};

  RobotReplies(Webhooks& webhooks, Timers& timers, WallClock& clock);
  ~RobotReplies();
  RobotReplies(const RobotReplies&) = delete;
  RobotReplies& operator=(const RobotReplies&) = delete;

  // REQUIRES: is_robot_reply(reply).
  void send(const RobotMessage& robot, const config::Route& route, const config::Config& config,
            const std::string& reply);

  // Token API calls made so far.
  uint64_t token_fetches() const { return tokens_.fetches(); }
  // OpenAPI sends waiting for their rate-limit backoff.
  size_t waiting() const { return waiting_.size(); }

 private:
  struct Fallback;

  void send_to_session_webhook(const RobotMessage& robot, const config::Route& route,
                               const config::Config& config, const std::string& reply);
  // Sends `reply` through the OpenAPI; `why` says why the sessionWebhook did not take it.
  void fall_back(const RobotMessage& robot, const std::string& route,
                 const openapi::AppCredentials& app, const std::string& reply,
                 const std::string& why);
  void attempt(const std::shared_ptr<Fallback>& fallback);
  void post(const std::shared_ptr<Fallback>& fallback, const std::string& token);
  void on_answer(const std::shared_ptr<Fallback>& fallback, const std::string& token,
                 const deliver::Response& response);
  void retry_later(const std::shared_ptr<Fallback>& fallback, const deliver::Response& response,
                   const std::string& reason);
  void fail(const Fallback& fallback, const std::string& reason);

  Webhooks& webhooks_;
  Timers& timers_;
  WallClock& clock_;
  openapi::AccessTokenCache tokens_;
  std::unordered_map<TimerId, std::shared_ptr<Fallback>> waiting_;  // by backoff timer
  // Answers that arrive after we are gone find this expired.
  std::shared_ptr<RobotReplies*> self_ = std::make_shared<RobotReplies*>(this);
};

}  // namespace dsb::bridge
