#include "bridge/openapi_replies.hpp"

#include <algorithm>
#include <random>
#include <utility>

#include "admin/metrics.hpp"
#include "common/log.hpp"
#include "deliver/retry_after.hpp"
#include "openapi/answer.hpp"
#include "openapi/api_url.hpp"

namespace dsb::bridge {
namespace {

void count(const std::string& app, const std::string& route, const char* outcome) {
  metrics::global()
      .counter("dsb_robot_replies_total",
               {{"app", app}, {"route", route}, {"via", "openapi"}, {"outcome", outcome}})
      .inc();
}

OpenApiReplies::Random seeded_random() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

}  // namespace

// One reply on its way through the OpenAPI.
struct OpenApiReplies::Reply {
  std::string app;  // the config's name of the app it replies for
  std::string route;
  std::string url;
  std::string body;
  deliver::Transport transport;
  openapi::AccessTokenCache* tokens = nullptr;  // its app's; lives as long as OpenApiReplies
  int attempts = 0;            // sends made
  bool token_renewed = false;  // the one resend with a fresh token is spent
  bool probe = false;          // sent alone after a rate limit's backoff
};

OpenApiReplies::OpenApiReplies(Webhooks& webhooks, Timers& timers, WallClock& clock,
                               Random random)
    : webhooks_(webhooks),
      timers_(timers),
      clock_(clock),
      random_(random ? std::move(random) : seeded_random()) {}

uint64_t OpenApiReplies::token_fetches() const {
  uint64_t fetches = 0;
  for (const auto& [client_id, cache] : tokens_) fetches += cache->fetches();
  return fetches;
}

openapi::AccessTokenCache& OpenApiReplies::tokens_of(const openapi::AppCredentials& app) {
  std::unique_ptr<openapi::AccessTokenCache>& cache = tokens_[app.client_id];
  if (!cache) cache = std::make_unique<openapi::AccessTokenCache>(webhooks_, timers_);
  cache->set_app(app);  // a reload may have changed its secret or api_base
  return *cache;
}

OpenApiReplies::~OpenApiReplies() {
  *self_ = nullptr;
  if (gate_timer_ != 0) timers_.cancel(gate_timer_);
  for (const auto& reply : queue_) fail(*reply, "shutting down while waiting out a rate limit");
}

void OpenApiReplies::send(const std::string& route, const openapi::AppCredentials& app,
                          OpenApiSend send) {
  auto reply = std::make_shared<Reply>();
  reply->tokens = &tokens_of(app);
  reply->app = app.app;
  reply->route = route;
  reply->url = openapi::api_url(app.api_base, send.path);
  reply->body = std::move(send.body);
  reply->transport = app.transport;
  if (rate_limited()) {
    // Each new reply probing DingTalk on its own would only prolong the limit.
    log::debug("bridge", "robot reply waits behind an OpenAPI rate limit",
               {{"route", route}, {"waiting", std::to_string(queue_.size())}});
    enqueue(reply, false);
    return;
  }
  attempt(reply);
}

void OpenApiReplies::attempt(const std::shared_ptr<Reply>& reply) {
  std::weak_ptr<OpenApiReplies*> self = self_;
  reply->tokens->get([self, reply](Result<std::string> token) {
    auto alive = self.lock();
    if (!alive || *alive == nullptr) return;
    OpenApiReplies& me = **alive;
    if (!token) {
      me.fail(*reply, token.status().message());
      if (reply->probe) me.open_gate();  // the others fail the same way, or find a token
      return;
    }
    me.post(reply, token.value());
  });
}

void OpenApiReplies::post(const std::shared_ptr<Reply>& reply, const std::string& token) {
  ++reply->attempts;
  deliver::Request request;
  request.url = reply->url;
  request.body = reply->body;
  request.headers.emplace_back("Content-Type", "application/json");
  request.headers.emplace_back("x-acs-dingtalk-access-token", token);
  request.timeout = kOpenApiTimeout;
  request.transport = reply->transport;
  std::weak_ptr<OpenApiReplies*> self = self_;
  webhooks_.post(std::move(request), [self, reply, token](deliver::Response response) {
    auto alive = self.lock();
    if (alive && *alive != nullptr) (*alive)->on_answer(reply, token, response);
  });
}

void OpenApiReplies::on_answer(const std::shared_ptr<Reply>& reply, const std::string& token,
                               const deliver::Response& response) {
  const openapi::Answer answer = openapi::classify_answer(response);
  if (answer.kind == openapi::AnswerKind::rate_limited) {
    count(reply->app, reply->route, "rate_limited");
    wait_out(reply, response, answer.reason);
    return;
  }
  // DingTalk answered something else: whatever limit there was has passed.
  if (reply->probe) {
    reply->probe = false;
    open_gate();
  }
  switch (answer.kind) {
    case openapi::AnswerKind::ok:
      count(reply->app, reply->route, "sent");
      log::info("bridge", "robot reply sent through the OpenAPI",
                {{"route", reply->route}, {"attempts", std::to_string(reply->attempts)}});
      return;
    case openapi::AnswerKind::invalid_token:
      reply->tokens->invalidate(token);
      if (reply->token_renewed) {
        fail(*reply, "the fresh access token was refused too: " + answer.reason);
        return;
      }
      reply->token_renewed = true;
      log::info("bridge", "OpenAPI refused the access token; sending once more with a new one",
                {{"route", reply->route}, {"reason", answer.reason}});
      attempt(reply);
      return;
    case openapi::AnswerKind::failed:
      fail(*reply, answer.reason);
      return;
    case openapi::AnswerKind::rate_limited:
      return;  // handled above
  }
}

void OpenApiReplies::wait_out(const std::shared_ptr<Reply>& reply,
                              const deliver::Response& response, const std::string& reason) {
  const bool was_probe = std::exchange(reply->probe, false);
  if (was_probe) probing_ = false;
  const size_t step = static_cast<size_t>(std::min(reply->attempts, kMaxAttempts - 1) - 1);
  int64_t delay = kRateLimitBackoff[step].count();
  if (auto asked = deliver::parse_retry_after(response.retry_after, clock_.now_ms()))
    delay = std::clamp<int64_t>(*asked, delay, kMaxRetryAfter.count());
  delay += static_cast<int64_t>(static_cast<double>(delay) * kJitter * random_());
  if (reply->attempts >= kMaxAttempts) {
    fail(*reply, "rate-limited on all " + std::to_string(kMaxAttempts) + " sends: " + reason);
  } else {
    log::warn("bridge", "OpenAPI rate-limited a robot reply; sending again later",
              {{"route", reply->route}, {"reason", reason},
               {"attempt", std::to_string(reply->attempts)},
               {"retry_in_ms", std::to_string(delay)},
               {"waiting", std::to_string(queue_.size() + 1)}});
    enqueue(reply, was_probe);
  }
  // The limit is the app's: one timer for the whole queue, moved by an answer asking longer.
  const int64_t opens_at = timers_.now_ms() + delay;
  if (probing_) return;  // another probe is out: its answer decides
  if (gate_timer_ != 0 && opens_at <= gate_opens_at_ms_) return;
  if (gate_timer_ != 0) timers_.cancel(gate_timer_);
  gate_opens_at_ms_ = opens_at;
  // The timer is cancelled by our destructor, so `this` is alive when it fires.
  gate_timer_ = timers_.after(std::chrono::milliseconds(delay), [this] {
    gate_timer_ = 0;
    probe();
  });
}

void OpenApiReplies::enqueue(const std::shared_ptr<Reply>& reply, bool front) {
  if (queue_.size() >= kMaxWaiting) {
    fail(*reply, "too many replies waiting out an OpenAPI rate limit (" +
                     std::to_string(kMaxWaiting) + ")");
    return;
  }
  if (front) {
    queue_.push_front(reply);
  } else {
    queue_.push_back(reply);
  }
}

void OpenApiReplies::probe() {
  if (queue_.empty()) {
    probing_ = false;
    return;
  }
  std::shared_ptr<Reply> head = std::move(queue_.front());
  queue_.pop_front();
  head->probe = true;
  probing_ = true;
  attempt(head);
}

void OpenApiReplies::open_gate() {
  probing_ = false;
  // A reply sent here may be rate-limited at once (a fake's answer, a cached token
  // failure): it queues again, so take the batch first.
  std::deque<std::shared_ptr<Reply>> batch = std::move(queue_);
  queue_.clear();
  for (const auto& reply : batch) {
    if (rate_limited()) {  // closed again meanwhile: the rest wait behind it
      enqueue(reply, false);
    } else {
      attempt(reply);
    }
  }
}

void OpenApiReplies::fail(const Reply& reply, const std::string& reason) {
  count(reply.app, reply.route, "failed");
  log::error("bridge", "robot reply failed through the OpenAPI",
             {{"route", reply.route}, {"attempts", std::to_string(reply.attempts)},
              {"reason", reason}});
}

}  // namespace dsb::bridge
