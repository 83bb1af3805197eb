#include "bridge/robot_replies.hpp"

#include <rapidjson/document.h>

#include <cstdlib>

#include "admin/metrics.hpp"
#include "bridge/session_webhook.hpp"
#include "common/json.hpp"
#include "common/log.hpp"
#include "config/url.hpp"

namespace dsb::bridge {
namespace {

// sessionWebhook lives at DingTalk, so replies take the same proxy as the Stream connection.
std::string dingtalk_proxy(const config::Config& config) {
  if (!config.dingtalk.proxy.empty()) return config.dingtalk.proxy;
  for (const char* name : {"HTTPS_PROXY", "https_proxy"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') return value;
  }
  return "";
}

void count(const std::string& route, const char* outcome) {
  metrics::global()
      .counter("dsb_robot_replies_total",
               {{"route", route}, {"via", "session_webhook"}, {"outcome", outcome}})
      .inc();
}

}  // namespace

void RobotReplies::send(const RobotMessage& robot, const config::Route& route,
                        const config::Config& config, const std::string& reply) {
  if (robot.session_webhook.empty()) {
    count(route.name, "no_session_webhook");
    log::warn("bridge", "robot reply dropped: the message has no sessionWebhook",
              {{"route", route.name}});
    return;
  }
  if (robot.session_webhook_expires_ms != 0 && clock_.now_ms() >= robot.session_webhook_expires_ms) {
    count(route.name, "expired");
    log::warn("bridge", "robot reply dropped: sessionWebhook expired", {{"route", route.name}});
    return;
  }
  // The URL came with the frame: a forged one must not make the bridge a proxy into the
  // network it sits in.
  if (Status allowed = check_session_webhook(robot.session_webhook, config.dingtalk.api_base);
      !allowed) {
    count(route.name, "refused");
    log::warn("bridge", "robot reply refused",
              {{"route", route.name}, {"url", config::redact_url(robot.session_webhook)},
               {"reason", allowed.message()}});
    return;
  }
  deliver::Request request;
  request.url = robot.session_webhook;
  request.body = reply;
  request.headers.emplace_back("Content-Type", "application/json");
  request.timeout = route.timeout;
  request.proxy = dingtalk_proxy(config);
  webhooks_.post(std::move(request), [name = route.name](deliver::Response response) {
    // DingTalk answers 200 with {"errcode":N}; only errcode 0 (or none) is a success.
    bool ok = response.is_2xx();
    std::string detail = ok ? "" : response.status != 0
                                       ? "sessionWebhook returned " + std::to_string(response.status)
                                       : "sessionWebhook failed: " + response.error;
    if (ok) {
      rapidjson::Document doc;
      if (json::parse(doc, response.body) && doc.IsObject() && doc.HasMember("errcode") &&
          doc["errcode"].IsInt() && doc["errcode"].GetInt() != 0) {
        ok = false;
        detail = "sessionWebhook answered errcode " + std::to_string(doc["errcode"].GetInt());
      }
    }
    count(name, ok ? "sent" : "failed");
    if (ok) {
      log::debug("bridge", "robot reply sent", {{"route", name}});
    } else {
      log::warn("bridge", "robot reply failed", {{"route", name}, {"reason", detail}});
    }
  });
}

}  // namespace dsb::bridge
