// Robot replies sent through the OpenAPI robot send (robot_openapi_send.hpp) when the
// sessionWebhook cannot take them (robot_replies.hpp), with the app's access token
// (openapi/access_token_cache.hpp). One reply's way:
//
//   token -> POST -> ok                       counted sent
//                 -> invalid token            the token is dropped, a fresh one fetched,
//                                             sent once more (a second refusal: failed)
//                 -> rate limited             counted rate_limited, waits (below), sent
//                                             again; after kMaxAttempts sends: failed
//                 -> anything else            failed
//
// Rate limits are the app's, not one reply's: DingTalk's robot quota is per app and minute.
// So a rate-limit answer closes a gate for every reply of the bridge: the limited reply and
// every new one queue (FIFO) until the backoff (kRateLimitBackoff by the limited reply's
// sends so far, or a longer Retry-After up to kMaxRetryAfter, plus up to kJitter of it so
// bridges sharing an app do not retry in step) has passed. Then the queue's head alone is
// sent, as a probe; any answer but another rate limit opens the gate and sends the rest.
// The queue holds at most kMaxWaiting replies; one more is failed at once (counted and
// logged as an error) rather than held.
//
// Outcomes: dsb_robot_replies_total{route, via="openapi", outcome} with outcome sent |
// failed | rate_limited (an answer that is retried later; the reply then ends sent or
// failed, failed also when the bridge stops while it waits). Every one but a plain
// success is logged.
//
// Loop thread only. Timers and HTTP through ports.hpp, so the unit tests use fakes.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <functional>
#include <memory>
#include <string>

#include "bridge/ports.hpp"
#include "bridge/robot_openapi_send.hpp"
#include "openapi/access_token_cache.hpp"

namespace dsb::bridge {

class OpenApiReplies {
 public:
  // Returns a value in [0, 1): the jitter's draw.
  using Random = std::function<double()>;

  static constexpr int kMaxAttempts = 5;  // OpenAPI sends of one reply, rate limits included
  // The wait before the 2nd, 3rd, ... send of a rate-limited reply: the first retries ride
  // out a burst, the last ones DingTalk's per-minute robot quota.
  static constexpr std::array<std::chrono::milliseconds, kMaxAttempts - 1> kRateLimitBackoff{
      std::chrono::milliseconds(1'000), std::chrono::milliseconds(2'000),
      std::chrono::milliseconds(30'000), std::chrono::milliseconds(60'000)};
  static constexpr std::chrono::milliseconds kMaxRetryAfter{120'000};
  // Added on top of a backoff, never taken off: DingTalk's wait is a minimum.
  static constexpr double kJitter = 0.2;
  // Replies held while a rate limit lasts. Each holds its send body (msgParam is at most
  // 15000 bytes, kMaxMsgParamBytes) and small change: 256 bound the queue near 4 MB, and
  // are 12 s of replies at 20 a second, which a per-minute quota will not let through
  // anyway before the last backoff gives up on them.
  static constexpr size_t kMaxWaiting = 256;
  // One small POST to DingTalk's edge, whatever the route's timeout.
  static constexpr std::chrono::milliseconds kOpenApiTimeout{10'000};

  // `random` defaults to a generator seeded from std::random_device.
  // REQUIRES: the ports outlive this object.
  OpenApiReplies(Webhooks& webhooks, Timers& timers, WallClock& clock, Random random = {});
  // Every reply still waiting is counted failed ("shutting down while waiting out a rate
  // limit") and logged: none is kept anywhere.
  ~OpenApiReplies();
  OpenApiReplies(const OpenApiReplies&) = delete;
  OpenApiReplies& operator=(const OpenApiReplies&) = delete;

  // Sends `send` for `route` as `app`, with that app's own access token (one cache per
  // client id: several apps in one daemon do not evict each other's tokens).
  void send(const std::string& route, const openapi::AppCredentials& app, OpenApiSend send);

  // Token API calls made so far.
  uint64_t token_fetches() const;
  // The app's token cache (one per client id), with its credentials brought up to date:
  // the app's OpenAPI endpoint (openapi/proxy.hpp) shares it with these replies.
  openapi::AccessTokenCache& tokens_of(const openapi::AppCredentials& app);
  // Replies queued behind a rate limit.
  size_t waiting() const { return queue_.size(); }
  // A rate limit is being waited out (or probed).
  bool rate_limited() const { return gate_timer_ != 0 || probing_; }

 private:
  struct Reply;

  void attempt(const std::shared_ptr<Reply>& reply);
  void post(const std::shared_ptr<Reply>& reply, const std::string& token);
  void on_answer(const std::shared_ptr<Reply>& reply, const std::string& token,
                 const deliver::Response& response);
  // The reply was rate-limited again or for the first time: queue it and close the gate.
  void wait_out(const std::shared_ptr<Reply>& reply, const deliver::Response& response,
                const std::string& reason);
  // Queues `reply` behind the rate limit, or fails it when the queue is full. `front`: it
  // was sent before the ones queued (the probe), so it goes first again.
  void enqueue(const std::shared_ptr<Reply>& reply, bool front);
  // The backoff has passed: send the queue's head alone.
  void probe();
  // The probe got an answer that is not a rate limit: send every queued reply.
  void open_gate();
  void fail(const Reply& reply, const std::string& reason);

  Webhooks& webhooks_;
  Timers& timers_;
  WallClock& clock_;  // for a Retry-After given as an HTTP date
  Random random_;
  // By client id; kept while we live (an app removed and added back finds its token).
  std::map<std::string, std::unique_ptr<openapi::AccessTokenCache>> tokens_;
  std::deque<std::shared_ptr<Reply>> queue_;  // behind the rate limit, oldest first
  TimerId gate_timer_ = 0;      // non-zero while a rate limit's backoff runs
  int64_t gate_opens_at_ms_ = 0;  // when gate_timer_ fires (steady ms)
  bool probing_ = false;        // the probe after a backoff is out
  // Answers that arrive after we are gone find this expired.
  std::shared_ptr<OpenApiReplies*> self_ = std::make_shared<OpenApiReplies*>(this);
};

}  // namespace dsb::bridge
