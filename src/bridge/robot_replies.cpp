#include "bridge/robot_replies.hpp"

#include <utility>

#include "admin/metrics.hpp"
#include "bridge/robot_openapi_send.hpp"
#include "bridge/session_webhook.hpp"
#include "common/log.hpp"
#include "config/url.hpp"
#include "openapi/answer.hpp"

namespace dsb::bridge {
namespace {

void count(const std::string& app, const std::string& route, const char* via, const char* outcome) {
  metrics::global()
      .counter("dsb_robot_replies_total",
               {{"app", app}, {"route", route}, {"via", via}, {"outcome", outcome}})
      .inc();
}

}  // namespace

RobotReplies::RobotReplies(Webhooks& webhooks, Timers& timers, WallClock& clock,
                           deliver::Transport dingtalk, OpenApiReplies::Random random)
    : RobotReplies(webhooks, timers, clock,
                   TransportFor([dingtalk = std::move(dingtalk)](const config::App&) { return dingtalk; }),
                   std::move(random)) {}

RobotReplies::RobotReplies(Webhooks& webhooks, Timers& timers, WallClock& clock,
                           TransportFor dingtalk, OpenApiReplies::Random random)
    : webhooks_(webhooks),
      clock_(clock),
      dingtalk_(std::move(dingtalk)),
      timers_(timers),
      random_(std::move(random)) {}

OpenApiReplies& RobotReplies::openapi_of(const openapi::AppCredentials& app) {
  std::unique_ptr<OpenApiReplies>& replies = openapi_[app.client_id];
  if (!replies) replies = std::make_unique<OpenApiReplies>(webhooks_, timers_, clock_, random_);
  return *replies;
}

openapi::AccessTokenCache& RobotReplies::token_cache(const config::App& config) {
  const openapi::AppCredentials app = app_of(config);
  return openapi_of(app).tokens_of(app);
}

uint64_t RobotReplies::token_fetches() const {
  uint64_t fetches = 0;
  for (const auto& [client_id, replies] : openapi_) fetches += replies->token_fetches();
  return fetches;
}

size_t RobotReplies::waiting() const {
  size_t waiting = 0;
  for (const auto& [client_id, replies] : openapi_) waiting += replies->waiting();
  return waiting;
}

openapi::AppCredentials RobotReplies::app_of(const config::App& app) const {
  return {app.dingtalk.api_base, app.dingtalk.client_id, app.dingtalk.client_secret,
          dingtalk_ ? dingtalk_(app) : deliver::Transport{}, app.name};
}

RobotReplies::~RobotReplies() { *self_ = nullptr; }

void RobotReplies::send(const RobotMessage& robot, const config::Route& route,
                        const config::App& config, const std::string& reply) {
  if (robot.session_webhook.empty()) {
    count(config.name, route.name, "session_webhook", "no_session_webhook");
    fall_back(robot, route.name, app_of(config), reply, "the message has no sessionWebhook");
    return;
  }
  if (robot.session_webhook_expires_ms != 0 && clock_.now_ms() >= robot.session_webhook_expires_ms) {
    count(config.name, route.name, "session_webhook", "expired");
    fall_back(robot, route.name, app_of(config), reply, "sessionWebhook expired");
    return;
  }
  // The URL came with the frame: a forged one must not make the bridge a proxy into the
  // network it sits in.
  if (Status allowed = check_session_webhook(robot.session_webhook, config.dingtalk.api_base);
      !allowed) {
    count(config.name, route.name, "session_webhook", "refused");
    log::warn("bridge", "robot reply refused",
              {{"route", route.name}, {"url", config::redact_url(robot.session_webhook)},
               {"reason", allowed.message()}});
    fall_back(robot, route.name, app_of(config), reply, "sessionWebhook refused");
    return;
  }
  send_to_session_webhook(robot, route, config, reply);
}

void RobotReplies::send_to_session_webhook(const RobotMessage& robot, const config::Route& route,
                                           const config::App& config,
                                           const std::string& reply) {
  deliver::Request request;
  request.url = robot.session_webhook;
  request.body = reply;
  request.headers.emplace_back("Content-Type", "application/json");
  request.timeout = kSessionWebhookTimeout;
  request.transport = dingtalk_ ? dingtalk_(config) : deliver::Transport{};
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
    count(app.app, name, "session_webhook", ok ? "sent" : "failed");
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
    count(app.app, route, "openapi", "unmappable");
    log::warn("bridge", "robot reply not sent: no sessionWebhook to take it and no OpenAPI form",
              {{"route", route}, {"why", why}, {"reason", send.status().message()}});
    return;
  }
  log::info("bridge", "robot reply goes through the OpenAPI", {{"route", route}, {"why", why}});
  if (send->mentions_dropped)
    log::info("bridge", "robot reply's @-mentions dropped: the OpenAPI templates carry no `at`",
              {{"route", route}});
  openapi_of(app).send(route, app, std::move(send.value()));
}

}  // namespace dsb::bridge
