#include "bridge/robot_replies.hpp"

#include <algorithm>

#include "admin/metrics.hpp"
#include "bridge/dingtalk_transport.hpp"
#include "bridge/robot_openapi_send.hpp"
#include "bridge/session_webhook.hpp"
#include "common/log.hpp"
#include "config/url.hpp"
#include "deliver/retry_after.hpp"
#include "openapi/answer.hpp"
#include "openapi/api_url.hpp"

namespace dsb::bridge {
namespace {

void count(const std::string& route, const char* via, const char* outcome) {
  metrics::global()
      .counter("dsb_robot_replies_total", {{"route", route}, {"via", via}, {"outcome", outcome}})
      .inc();
}

openapi::AppCredentials app_of(const config::Config& config) {
  return {config.dingtalk.api_base, config.dingtalk.client_id, config.dingtalk.client_secret,
          dingtalk_transport(config)};
}

}  // namespace

// One reply on its way through the OpenAPI.
struct RobotReplies::Fallback {
  std::string route;
  std::string url;
  std::string body;
  deliver::Transport transport;
  int attempts = 0;             // sends made
  bool token_renewed = false;   // the one resend with a fresh token is spent
};

RobotReplies::RobotReplies(Webhooks& webhooks, Timers& timers, WallClock& clock)
    : webhooks_(webhooks), timers_(timers), clock_(clock), tokens_(webhooks, timers) {}

RobotReplies::~RobotReplies() {
  *self_ = nullptr;
  // Shutdown: a reply waiting out a rate limit is not kept anywhere; say so.
  for (const auto& [timer, fallback] : waiting_) {
    timers_.cancel(timer);
    fail(*fallback, "shutting down while waiting out a rate limit");
  }
}

void RobotReplies::send(const RobotMessage& robot, const config::Route& route,
                        const config::Config& config, const std::string& reply) {
  if (robot.session_webhook.empty()) {
    count(route.name, "session_webhook", "no_session_webhook");
    fall_back(robot, route.name, app_of(config), reply, "the message has no sessionWebhook");
    return;
  }
  if (robot.session_webhook_expires_ms != 0 && clock_.now_ms() >= robot.session_webhook_expires_ms) {
    count(route.name, "session_webhook", "expired");
    fall_back(robot, route.name, app_of(config), reply, "sessionWebhook expired");
    return;
  }
  // The URL came with the frame: a forged one must not make the bridge a proxy into the
  // network it sits in.
  if (Status allowed = check_session_webhook(robot.session_webhook, config.dingtalk.api_base);
      !allowed) {
    count(route.name, "session_webhook", "refused");
    log::warn("bridge", "robot reply refused",
              {{"route", route.name}, {"url", config::redact_url(robot.session_webhook)},
               {"reason", allowed.message()}});
    fall_back(robot, route.name, app_of(config), reply, "sessionWebhook refused");
    return;
  }
  send_to_session_webhook(robot, route, config, reply);
}

void RobotReplies::send_to_session_webhook(const RobotMessage& robot, const config::Route& route,
                                           const config::Config& config,
                                           const std::string& reply) {
  deliver::Request request;
  request.url = robot.session_webhook;
  request.body = reply;
  request.headers.emplace_back("Content-Type", "application/json");
  request.timeout = kSessionWebhookTimeout;
  request.transport = dingtalk_transport(config);
  std::weak_ptr<RobotReplies*> self = self_;
  // What a fallback needs, kept past this call: the config may be reloaded meanwhile.
  webhooks_.post(std::move(request), [self, robot, name = route.name, app = app_of(config),
                                      reply](deliver::Response response) {
    // DingTalk answers 200 with {"errcode":N}; only errcode 0 (or none) is a success. Read
    // as every DingTalk answer is: a sessionWebhook's errcode may come as a string too.
    const openapi::Answer answer = openapi::classify_answer(response);
    const bool ok = answer.kind == openapi::AnswerKind::ok;
    const std::string detail = ok                     ? ""
                               : response.status == 0 ? "sessionWebhook: " + answer.reason
                                                      : "sessionWebhook answered " + answer.reason;
    count(name, "session_webhook", ok ? "sent" : "failed");
    if (ok) {
      log::debug("bridge", "robot reply sent", {{"route", name}});
      return;
    }
    auto alive = self.lock();
    if (response.status == 0 || !alive || *alive == nullptr) {
      log::warn("bridge", "robot reply failed", {{"route", name}, {"reason", detail}});
      return;
    }
    (*alive)->fall_back(robot, name, app, reply, detail);
  });
}

void RobotReplies::fall_back(const RobotMessage& robot, const std::string& route,
                             const openapi::AppCredentials& app, const std::string& reply,
                             const std::string& why) {
  Result<OpenApiSend> send = build_openapi_send(robot, reply, app.client_id);
  if (!send) {
    count(route, "openapi", "unmappable");
    log::warn("bridge", "robot reply not sent: no sessionWebhook to take it and no OpenAPI form",
              {{"route", route}, {"why", why}, {"reason", send.status().message()}});
    return;
  }
  log::info("bridge", "robot reply goes through the OpenAPI", {{"route", route}, {"why", why}});
  if (send->mentions_dropped)
    log::info("bridge", "robot reply's @-mentions dropped: the OpenAPI templates carry no `at`",
              {{"route", route}});
  tokens_.set_app(app);
  auto fallback = std::make_shared<Fallback>();
  fallback->route = route;
  fallback->url = openapi::api_url(app.api_base, send->path);
  fallback->body = std::move(send->body);
  fallback->transport = app.transport;
  attempt(fallback);
}

void RobotReplies::attempt(const std::shared_ptr<Fallback>& fallback) {
  std::weak_ptr<RobotReplies*> self = self_;
  tokens_.get([self, fallback](Result<std::string> token) {
    auto alive = self.lock();
    if (!alive || *alive == nullptr) return;
    if (!token) {
      (*alive)->fail(*fallback, token.status().message());
      return;
    }
    (*alive)->post(fallback, token.value());
  });
}

void RobotReplies::post(const std::shared_ptr<Fallback>& fallback, const std::string& token) {
  ++fallback->attempts;
  deliver::Request request;
  request.url = fallback->url;
  request.body = fallback->body;
  request.headers.emplace_back("Content-Type", "application/json");
  request.headers.emplace_back("x-acs-dingtalk-access-token", token);
  request.timeout = kOpenApiTimeout;
  request.transport = fallback->transport;
  std::weak_ptr<RobotReplies*> self = self_;
  webhooks_.post(std::move(request), [self, fallback, token](deliver::Response response) {
    auto alive = self.lock();
    if (alive && *alive != nullptr) (*alive)->on_answer(fallback, token, response);
  });
}

void RobotReplies::on_answer(const std::shared_ptr<Fallback>& fallback, const std::string& token,
                             const deliver::Response& response) {
  const openapi::Answer answer = openapi::classify_answer(response);
  switch (answer.kind) {
    case openapi::AnswerKind::ok:
      count(fallback->route, "openapi", "sent");
      log::info("bridge", "robot reply sent through the OpenAPI",
                {{"route", fallback->route}, {"attempts", std::to_string(fallback->attempts)}});
      return;
    case openapi::AnswerKind::invalid_token:
      tokens_.invalidate(token);
      if (fallback->token_renewed) {
        fail(*fallback, "the fresh access token was refused too: " + answer.reason);
        return;
      }
      fallback->token_renewed = true;
      log::info("bridge", "OpenAPI refused the access token; sending once more with a new one",
                {{"route", fallback->route}, {"reason", answer.reason}});
      attempt(fallback);
      return;
    case openapi::AnswerKind::rate_limited:
      count(fallback->route, "openapi", "rate_limited");
      retry_later(fallback, response, answer.reason);
      return;
    case openapi::AnswerKind::failed:
      fail(*fallback, answer.reason);
      return;
  }
}

void RobotReplies::retry_later(const std::shared_ptr<Fallback>& fallback,
                               const deliver::Response& response, const std::string& reason) {
  if (fallback->attempts >= kMaxAttempts) {
    fail(*fallback, "rate-limited on all " + std::to_string(kMaxAttempts) + " sends: " + reason);
    return;
  }
  int64_t delay = kRateLimitBackoff[static_cast<size_t>(fallback->attempts - 1)].count();
  if (auto asked = deliver::parse_retry_after(response.retry_after, clock_.now_ms()))
    delay = std::clamp<int64_t>(*asked, delay, kMaxRetryAfter.count());
  log::warn("bridge", "OpenAPI rate-limited a robot reply; sending again later",
            {{"route", fallback->route}, {"reason", reason},
             {"attempt", std::to_string(fallback->attempts)},
             {"retry_in_ms", std::to_string(delay)}});
  // The timer is cancelled by our destructor, so `this` is alive when it fires.
  auto timer = std::make_shared<TimerId>(0);
  *timer = timers_.after(std::chrono::milliseconds(delay), [this, timer] {
    auto it = waiting_.find(*timer);
    if (it == waiting_.end()) return;
    std::shared_ptr<Fallback> next = std::move(it->second);
    waiting_.erase(it);
    attempt(next);
  });
  waiting_.emplace(*timer, fallback);
}

void RobotReplies::fail(const Fallback& fallback, const std::string& reason) {
  count(fallback.route, "openapi", "failed");
  log::error("bridge", "robot reply failed through the OpenAPI",
             {{"route", fallback.route}, {"attempts", std::to_string(fallback.attempts)},
              {"reason", reason}});
}

}  // namespace dsb::bridge
