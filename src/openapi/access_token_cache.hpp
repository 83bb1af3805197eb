// One app's OpenAPI access token (product.md section 13; stream-protocol.md section 8):
// fetched by `POST {api_base}/v1.0/oauth2/accessToken` with {"appKey","appSecret"}, kept
// until shortly before its `expireIn`, shared by everyone who asks.
//
//   - Single flight: while a fetch runs, every get() queues on it; one fetch answers all.
//   - Expiry: a token is handed out until expireIn - min(300 s, expireIn / 10) after its
//     fetch began (DingTalk's tokens live 7200 s: refreshed after 6900 s), so no caller
//     gets one that dies on the way. expireIn is clamped to 60 s .. 1 day first.
//   - Invalid-token answers: the caller reports the token it used with invalidate(); the
//     cache drops it only if it still holds that very token, so N callers that all saw the
//     same stale token cause one refetch, not N.
//   - Failure: every waiter gets the reason; the next get() after kRetryAfterFailure
//     tries again, one made sooner gets the same failure at once (a dead token API is not
//     hammered by a burst of replies).
//
// Neither the token nor the secret ever appears in a reason or a log line: reasons quote
// the HTTP status and DingTalk's error `code` only.
//
// Socket-free: HTTP through bridge::Webhooks, time through bridge::Timers (steady ms), so
// the unit tests drive it with fakes. Single-threaded: every call and every callback on
// the loop thread. Reusable by anything that calls the OpenAPI for one app (replies'
// fallback now, the OpenAPI proxy next); it knows nothing of robots.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bridge/ports.hpp"
#include "common/status.hpp"
#include "deliver/request.hpp"

namespace dsb::openapi {

// Which app's token, and how to reach the token API.
struct AppCredentials {
  std::string api_base;       // "https://api.dingtalk.com", no trailing slash needed
  std::string client_id;      // appKey
  std::string client_secret;  // appSecret: secret, never logged
  deliver::Transport transport;  // proxy and extra CA, as for every request to DingTalk
  std::string app = "default";   // the config's name of the app: metrics and logs only
  bool operator==(const AppCredentials&) const = default;
};

class AccessTokenCache {
 public:
  using Done = std::function<void(Result<std::string>)>;  // the token, or why there is none

  static constexpr std::chrono::milliseconds kFetchTimeout{10'000};
  static constexpr int64_t kRetryAfterFailureMs = 1'000;
  static constexpr int64_t kMaxRefreshMarginMs = 300'000;
  // expireIn is DingTalk's number and is clamped to this before any arithmetic: a huge
  // one would overflow the millisecond sums, and a tiny one would refetch for every reply
  // (a token that really dies sooner is refetched by the invalid-token answer).
  static constexpr int64_t kMinExpireInS = 60;
  static constexpr int64_t kMaxExpireInS = 86'400;

  // REQUIRES: both outlive this object.
  AccessTokenCache(bridge::Webhooks& http, bridge::Timers& clock);
  ~AccessTokenCache();
  AccessTokenCache(const AccessTokenCache&) = delete;
  AccessTokenCache& operator=(const AccessTokenCache&) = delete;

  // Sets the app. A change (reload with a new secret or api_base) drops the cached token
  // and the remembered failure; a fetch under way is repeated with the new credentials
  // for those waiting on it.
  void set_app(AppCredentials app);

  // `done` runs exactly once: at once (before get returns) with a cached token or a
  // failure younger than kRetryAfterFailureMs, else when the (shared) fetch ends.
  // REQUIRES: set_app() was called.
  void get(Done done);

  // The OpenAPI said `token` is not valid: forget it if it is still the cached one.
  void invalidate(const std::string& token);

  // Token API calls made so far (tests and metrics).
  uint64_t fetches() const { return fetches_; }

 private:
  void start_fetch();
  void on_fetched(uint64_t generation, int64_t started_ms, const deliver::Response& response);
  void answer_waiters(const Result<std::string>& result);

  bridge::Webhooks& http_;
  bridge::Timers& clock_;
  AppCredentials app_;
  uint64_t generation_ = 0;  // bumped by a credentials change: older fetches are stale

  std::string token_;          // "" when none is cached
  int64_t token_good_until_ms_ = 0;
  std::string last_failure_;   // "" when the last fetch succeeded (or none was made)
  int64_t last_failure_ms_ = 0;

  bool fetching_ = false;
  std::vector<Done> waiters_;
  uint64_t fetches_ = 0;
  // Answers that arrive after we are gone find this expired.
  std::shared_ptr<AccessTokenCache*> self_ = std::make_shared<AccessTokenCache*>(this);
};

}  // namespace dsb::openapi
