#include "openapi/access_token_cache.hpp"

#include <rapidjson/document.h>

#include <algorithm>

#include "common/json.hpp"
#include "common/log.hpp"
#include "openapi/answer.hpp"
#include "openapi/api_url.hpp"

namespace dsb::openapi {
namespace {

std::string token_request_body(const AppCredentials& app) {
  return "{\"appKey\":" + json::quote(app.client_id) +
         ",\"appSecret\":" + json::quote(app.client_secret) + "}";
}

struct Token {
  std::string value;
  int64_t expire_in_s = 0;  // clamped to [kMinExpireInS, kMaxExpireInS]
};

// {"accessToken":"...","expireIn":7200}, or why not. The reason never quotes the body: a
// malformed answer could still hold the token.
Result<Token> read_token(const deliver::Response& response) {
  if (!response.is_2xx()) return Status::error(describe_failure(response));
  rapidjson::Document doc;
  if (!json::parse(doc, response.body) || !doc.IsObject())
    return Status::error("token API answered " + std::to_string(response.status) +
                         " with a body that is not a JSON object");
  auto token = json::string_member(doc, "accessToken");
  auto expire = doc.FindMember("expireIn");
  if (!token || token->empty())
    return Status::error("token API answer has no accessToken");
  if (expire == doc.MemberEnd()) return Status::error("token API answer has no positive expireIn");
  const rapidjson::Value& value = expire->value;
  // A number beyond int64 is still "positive and very long": clamped like any other.
  const bool positive =
      value.IsInt64() ? value.GetInt64() > 0 : value.IsUint64();
  if (!positive) return Status::error("token API answer has no positive expireIn");
  const int64_t expire_in_s =
      value.IsInt64() ? value.GetInt64() : AccessTokenCache::kMaxExpireInS;
  return Token{std::string(*token), std::clamp(expire_in_s, AccessTokenCache::kMinExpireInS,
                                               AccessTokenCache::kMaxExpireInS)};
}

}  // namespace

AccessTokenCache::AccessTokenCache(bridge::Webhooks& http, bridge::Timers& clock)
    : http_(http), clock_(clock) {}

AccessTokenCache::~AccessTokenCache() {
  *self_ = nullptr;  // a fetch still running completes into the void
}

void AccessTokenCache::set_app(AppCredentials app) {
  if (app == app_) return;
  app_ = std::move(app);
  ++generation_;
  token_.clear();
  last_failure_.clear();
  if (fetching_) start_fetch();  // the running one is stale; its waiters wait on this one
}

void AccessTokenCache::get(Done done) {
  const int64_t now = clock_.now_ms();
  if (!token_.empty() && now < token_good_until_ms_) {
    done(token_);
    return;
  }
  token_.clear();
  if (!fetching_ && !last_failure_.empty() && now - last_failure_ms_ < kRetryAfterFailureMs) {
    done(Status::error(last_failure_));
    return;
  }
  waiters_.push_back(std::move(done));
  if (!fetching_) start_fetch();
}

void AccessTokenCache::invalidate(const std::string& token) {
  if (!token.empty() && token == token_) token_.clear();
}

void AccessTokenCache::start_fetch() {
  fetching_ = true;
  ++fetches_;
  deliver::Request request;
  request.url = api_url(app_.api_base, "/v1.0/oauth2/accessToken");
  request.body = token_request_body(app_);
  request.headers.emplace_back("Content-Type", "application/json");
  request.timeout = kFetchTimeout;
  request.transport = app_.transport;
  const int64_t started = clock_.now_ms();
  std::weak_ptr<AccessTokenCache*> self = self_;
  http_.post(std::move(request),
             [self, generation = generation_, started](deliver::Response response) {
               auto alive = self.lock();
               if (alive && *alive) (*alive)->on_fetched(generation, started, response);
             });
}

void AccessTokenCache::on_fetched(uint64_t generation, int64_t started_ms,
                                  const deliver::Response& response) {
  if (generation != generation_) return;  // set_app() started a fresh fetch for the waiters
  fetching_ = false;
  Result<Token> got = read_token(response);
  if (!got) {
    last_failure_ = "access token: " + got.status().message();
    last_failure_ms_ = clock_.now_ms();
    log::error("openapi", "access token fetch failed",
               {{"app_key", app_.client_id}, {"reason", last_failure_}});
    answer_waiters(Status::error(last_failure_));
    return;
  }
  last_failure_.clear();
  const int64_t lifetime_ms = got->expire_in_s * 1000;
  const int64_t margin_ms = std::min(kMaxRefreshMarginMs, lifetime_ms / 10);
  // Counted from when the request left: DingTalk's clock started no earlier.
  token_good_until_ms_ = started_ms + lifetime_ms - margin_ms;
  token_ = std::move(got->value);
  log::debug("openapi", "access token fetched",
             {{"app_key", app_.client_id}, {"expire_in_s", std::to_string(got->expire_in_s)}});
  answer_waiters(token_);
}

void AccessTokenCache::answer_waiters(const Result<std::string>& result) {
  // A waiter may call get() again (a retry): it must find the list empty and the state final.
  std::vector<Done> waiters = std::move(waiters_);
  waiters_.clear();
  for (Done& done : waiters) done(result);
}

}  // namespace dsb::openapi
