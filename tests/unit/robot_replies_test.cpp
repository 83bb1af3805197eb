// RobotReplies with fake HTTP and time: sessionWebhook first, the OpenAPI when it cannot
// take the reply; invalid tokens renewed once, rate limits retried with backoff, every
// outcome counted.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "admin/metrics.hpp"
#include "bridge/dingtalk_transport.hpp"
#include "bridge/robot_replies.hpp"
#include "support/fake_ports.hpp"

using namespace dsb;
using namespace dsb::bridge;
using dsb::testing::ManualTimers;
using dsb::testing::ManualWallClock;
using dsb::testing::ManualWebhooks;

namespace {

const char* kText = R"({"msgtype":"text","text":{"content":"hi"}})";
const char* kToken = R"({"accessToken":"tok1","expireIn":7200})";
const char* kGroupSend = "https://api.dt/v1.0/robot/groupMessages/send";
const char* kTokenUrl = "https://api.dt/v1.0/oauth2/accessToken";

uint64_t outcome(const std::string& route, const char* via, const char* name) {
  return metrics::global()
      .counter("dsb_robot_replies_total",
               {{"app", "default"}, {"route", route}, {"via", via}, {"outcome", name}})
      .value();
}

struct Fixture {
  explicit Fixture(std::string route_name) {
    config.dingtalk.api_base = "https://api.dt";
    config.dingtalk.client_id = "client";
    config.dingtalk.client_secret = "secret";
    // Counters are global and a SECTION reruns its test case: each fixture counts alone.
    static int instances = 0;
    route.name = route_name + "-" + std::to_string(++instances);
    route.topic = std::string(kRobotTopic);
    robot.msg_id = "m1";
    robot.session_webhook = "https://oapi.dt/robot/sendBySession?session=s";
    robot.session_webhook_expires_ms = clock.now + 60'000;
    robot.conversation_type = "2";
    robot.conversation_id = "cidG";
    robot.sender_staff_id = "u1";
    robot.robot_code = "dingbot";
  }
  void send(const std::string& reply = kText) { replies.send(robot, route, config, reply); }
  uint64_t count(const char* via, const char* name) const { return outcome(route.name, via, name); }

  ManualTimers timers;
  ManualWebhooks http;
  ManualWallClock clock;
  deliver::Transport dingtalk;  // set before `replies` is built (the Fixture's order)
  RobotReplies replies{http, timers, clock, dingtalk, [] { return 0.0; }};
  config::App config;
  config::Route route;
  RobotMessage robot;
};

}  // namespace

TEST_CASE("robot replies: a live sessionWebhook takes the reply, no token fetched", "[robot_replies]") {
  Fixture f("rr-live");
  f.send();
  REQUIRE(f.http.calls.size() == 1);
  CHECK(f.http.calls[0].request.url == f.robot.session_webhook);
  f.http.answer(0, 200, R"({"errcode":0})");
  CHECK(f.http.calls.size() == 1);
  CHECK(f.count("session_webhook", "sent") == 1);
  CHECK(f.replies.token_fetches() == 0);
}

TEST_CASE("robot replies: an expired sessionWebhook -> groupMessages/send with a token",
          "[robot_replies]") {
  Fixture f("rr-expired");
  f.robot.session_webhook_expires_ms = f.clock.now - 1;
  f.send();
  REQUIRE(f.http.calls.size() == 1);
  CHECK(f.http.calls[0].request.url == kTokenUrl);
  f.http.answer(0, 200, kToken);
  REQUIRE(f.http.calls.size() == 2);
  const auto& send = f.http.calls[1];
  CHECK(send.request.url == kGroupSend);
  CHECK(send.header("x-acs-dingtalk-access-token") == "tok1");
  CHECK(send.header("Content-Type") == "application/json");
  CHECK(send.request.body ==
        R"({"robotCode":"dingbot","openConversationId":"cidG","msgKey":"sampleText","msgParam":"{\"content\":\"hi\"}"})");
  f.http.answer(1, 200, R"({"processQueryKey":"q"})");
  CHECK(f.count("session_webhook", "expired") == 1);
  CHECK(f.count("openapi", "sent") == 1);
}

TEST_CASE("robot replies: missing, refused and failing sessionWebhooks fall back", "[robot_replies]") {
  Fixture f("rr-fallbacks");
  f.robot.conversation_type = "1";  // 1:1 -> batchSend
  f.robot.session_webhook.clear();
  f.send();
  f.http.answer(0, 200, kToken);
  REQUIRE(f.http.calls.size() == 2);
  CHECK(f.http.calls[1].request.url == "https://api.dt/v1.0/robot/oToMessages/batchSend");
  CHECK(f.http.calls[1].request.body.find(R"("userIds":["u1"])") != std::string::npos);
  f.http.answer(1, 200, "{}");

  f.robot.session_webhook = "http://10.0.0.1/internal";  // refused by the origin check
  f.send();
  REQUIRE(f.http.calls.size() == 3);  // the token is cached
  CHECK(f.http.calls[2].request.url == "https://api.dt/v1.0/robot/oToMessages/batchSend");
  f.http.answer(2, 200, "{}");

  f.robot.session_webhook = "https://oapi.dt/robot/sendBySession?session=s";
  f.send();
  f.http.answer(3, 200, R"({"errcode":310000,"errmsg":"sessionWebhook expired"})");
  REQUIRE(f.http.calls.size() == 5);
  CHECK(f.http.calls[4].request.url == "https://api.dt/v1.0/robot/oToMessages/batchSend");
  f.http.answer(4, 200, "{}");

  f.send();
  f.http.answer(5, 502, "bad gateway");
  REQUIRE(f.http.calls.size() == 7);
  f.http.answer(6, 200, "{}");

  f.send();  // no answer at all: it may have arrived, so no second copy
  f.http.answer(7, 0);
  CHECK(f.http.calls.size() == 8);

  f.send();  // an errcode written as a string is read as DingTalk's others are
  f.http.answer(8, 200, R"({"errcode":"310000","errmsg":"sessionWebhook expired"})");
  REQUIRE(f.http.calls.size() == 10);
  CHECK(f.http.calls[9].request.url == "https://api.dt/v1.0/robot/oToMessages/batchSend");
  f.http.answer(9, 200, "{}");

  CHECK(f.count("session_webhook", "no_session_webhook") == 1);
  CHECK(f.count("session_webhook", "refused") == 1);
  CHECK(f.count("session_webhook", "failed") == 4);
  CHECK(f.count("openapi", "sent") == 5);
  CHECK(f.replies.token_fetches() == 1);
}

TEST_CASE("robot replies: every request to DingTalk takes the resolved proxy and CA",
          "[robot_replies]") {
  const deliver::Transport dingtalk{"http://proxy.corp:3128", "/etc/dsb/inspecting-proxy-ca.pem",
                                    "user", "p@ss"};
  ManualTimers timers;
  ManualWebhooks http;
  ManualWallClock clock;
  RobotReplies replies(http, timers, clock, dingtalk, [] { return 0.0; });
  config::App config;
  config.dingtalk.api_base = "https://api.dt";
  config.dingtalk.client_id = "client";
  config::Route route;
  route.name = "rr-transport";
  RobotMessage robot;
  robot.session_webhook = "https://oapi.dt/robot/sendBySession?session=s";
  robot.conversation_type = "2";
  robot.conversation_id = "cidG";
  replies.send(robot, route, config, kText);
  http.answer(0, 200, R"({"errcode":310000})");  // the sessionWebhook refuses: fall back
  REQUIRE(http.calls.size() == 2);
  http.answer(1, 200, kToken);
  REQUIRE(http.calls.size() == 3);
  CHECK(http.calls[0].request.url == robot.session_webhook);
  CHECK(http.calls[1].request.url == kTokenUrl);
  CHECK(http.calls[2].request.url == kGroupSend);
  for (const auto& call : http.calls) CHECK(call.request.transport == dingtalk);
}

TEST_CASE("robot replies: a sessionWebhook reply has its own timeout, not the route's",
          "[robot_replies]") {
  Fixture f("rr-timeout");
  f.route.timeout = std::chrono::minutes(10);  // a slow AI webhook's
  f.send();
  REQUIRE(f.http.calls.size() == 1);
  CHECK(f.http.calls[0].request.timeout == RobotReplies::kSessionWebhookTimeout);
  CHECK(RobotReplies::kSessionWebhookTimeout <= std::chrono::seconds(10));
}

TEST_CASE("dingtalk transport: resolved once by the Stream's rules, for both sides",
          "[robot_replies]") {
  config::App config;
  config.dingtalk.ca_file = "/etc/dsb/ca.pem";
  std::map<std::string, std::string> env;
  auto getenv_fn = [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };

  CHECK(resolve_dingtalk_transport(config, getenv_fn).http() ==
        deliver::Transport{"", "/etc/dsb/ca.pem", "", ""});

  env["HTTPS_PROXY"] = "http://us%40r:p%3Ass@from-env:8080/";
  DingTalkTransport from_env = resolve_dingtalk_transport(config, getenv_fn);
  REQUIRE(from_env.proxy);
  CHECK(from_env.proxy->source == "HTTPS_PROXY");
  // Credentials decoded once and handed to curl apart from the URL, as to the open call.
  CHECK(from_env.http() ==
        deliver::Transport{"http://from-env:8080", "/etc/dsb/ca.pem", "us@r", "p:ss"});

  config.dingtalk.proxy = "http://configured:3128";
  DingTalkTransport configured = resolve_dingtalk_transport(config, getenv_fn);
  REQUIRE(configured.proxy);
  CHECK(configured.proxy->source == "dingtalk.proxy");
  CHECK(configured.http() == deliver::Transport{"http://configured:3128", "/etc/dsb/ca.pem", "", ""});

  SECTION("an unusable HTTPS_PROXY sends both directly") {
    config.dingtalk.proxy.clear();
    env["HTTPS_PROXY"] = "socks5://from-env:1080";
    DingTalkTransport bad = resolve_dingtalk_transport(config, getenv_fn);
    CHECK_FALSE(bad.proxy);
    CHECK(bad.http() == deliver::Transport{"", "/etc/dsb/ca.pem", "", ""});
  }
}

TEST_CASE("robot replies: an invalid token is renewed once and the reply resent once",
          "[robot_replies]") {
  Fixture f("rr-token");
  f.robot.session_webhook.clear();
  f.send();
  f.http.answer(0, 200, kToken);
  f.http.answer(1, 400, R"({"code":"InvalidAuthentication","message":"不合法的access_token"})");
  REQUIRE(f.http.calls.size() == 3);
  CHECK(f.http.calls[2].request.url == kTokenUrl);
  f.http.answer(2, 200, R"({"accessToken":"tok2","expireIn":7200})");
  REQUIRE(f.http.calls.size() == 4);
  CHECK(f.http.calls[3].header("x-acs-dingtalk-access-token") == "tok2");
  f.http.answer(3, 200, "{}");
  CHECK(f.count("openapi", "sent") == 1);

  SECTION("a second refusal fails the reply, without a third token") {
    f.send();
    REQUIRE(f.http.calls.size() == 5);
    f.http.answer(4, 401, "");
    f.http.answer(5, 200, R"({"accessToken":"tok3","expireIn":7200})");
    f.http.answer(6, 401, "");
    CHECK(f.http.calls.size() == 7);
    CHECK(f.count("openapi", "failed") == 1);
    CHECK(f.replies.token_fetches() == 3);
  }
}

TEST_CASE("robot replies: rate limits are retried with backoff, then counted as failed",
          "[robot_replies]") {
  Fixture f("rr-rate");
  f.robot.session_webhook.clear();
  f.send();
  f.http.answer(0, 200, kToken);
  f.http.answer(1, 429, "");
  CHECK(f.replies.waiting() == 1);
  CHECK(f.timers.next_in() == OpenApiReplies::kRateLimitBackoff[0].count());
  f.timers.advance(OpenApiReplies::kRateLimitBackoff[0].count());
  REQUIRE(f.http.calls.size() == 3);
  f.http.answer(2, 200, R"({"errcode":130101,"errmsg":"send too fast"})");
  CHECK(f.timers.next_in() == OpenApiReplies::kRateLimitBackoff[1].count());
  f.timers.advance(OpenApiReplies::kRateLimitBackoff[1].count());
  REQUIRE(f.http.calls.size() == 4);
  CHECK(f.http.calls[3].request.url == kGroupSend);

  SECTION("sent on the third try") {
    f.http.answer(3, 200, "{}");
    CHECK(f.count("openapi", "rate_limited") == 2);
    CHECK(f.count("openapi", "sent") == 1);
    CHECK(f.replies.waiting() == 0);
  }
  SECTION("a longer Retry-After is honoured, capped") {
    f.http.answer(3, 429, "", "600");
    CHECK(f.timers.next_in() == OpenApiReplies::kMaxRetryAfter.count());
  }
  SECTION("given up after kMaxAttempts sends") {
    for (int n = 3; n < OpenApiReplies::kMaxAttempts; ++n) {
      f.http.answer(static_cast<size_t>(n), 429, "");
      f.timers.advance(OpenApiReplies::kMaxRetryAfter.count());
    }
    REQUIRE(f.http.calls.size() == 1 + OpenApiReplies::kMaxAttempts);
    f.http.answer(OpenApiReplies::kMaxAttempts, 429, "");
    CHECK(f.http.calls.size() == 1 + OpenApiReplies::kMaxAttempts);
    CHECK(f.replies.waiting() == 0);
    CHECK(f.count("openapi", "failed") == 1);
    CHECK(f.count("openapi", "rate_limited") == OpenApiReplies::kMaxAttempts);
  }
}

TEST_CASE("robot replies: unmappable replies and token failures are counted", "[robot_replies]") {
  Fixture f("rr-unmappable");
  f.robot.session_webhook.clear();
  f.send(R"({"msgtype":"feedCard","feedCard":{"links":[]}})");
  f.robot.conversation_type = "1";
  f.robot.sender_staff_id.clear();
  f.send();
  CHECK(f.http.calls.empty());
  CHECK(f.count("openapi", "unmappable") == 2);

  f.robot.sender_staff_id = "u1";
  f.send();
  f.http.answer(0, 401, R"({"code":"InvalidAuthentication"})");  // the token API refuses
  CHECK(f.http.calls.size() == 1);
  CHECK(f.count("openapi", "failed") == 1);
}

TEST_CASE("robot replies: pending retries end with the object, counted as failed", "[robot_replies]") {
  ManualTimers timers;
  ManualWebhooks http;
  ManualWallClock clock;
  config::App config;
  config.dingtalk.api_base = "https://api.dt";
  config.dingtalk.client_id = "client";
  config::Route route;
  route.name = "rr-gone";
  const uint64_t failed_before = outcome("rr-gone", "openapi", "failed");
  RobotMessage robot;
  robot.conversation_type = "2";
  robot.conversation_id = "cid";
  {
    RobotReplies replies(http, timers, clock);
    replies.send(robot, route, config, kText);
    http.answer(0, 200, kToken);
    http.answer(1, 429, "");
    CHECK(timers.pending() == 1);
  }
  CHECK(timers.pending() == 0);
  CHECK(outcome("rr-gone", "openapi", "failed") == failed_before + 1);  // not silently dropped
}

TEST_CASE("robot replies: each app has its own token, transport and rate limit", "[robot_replies][apps]") {
  ManualTimers timers;
  ManualWebhooks http;
  ManualWallClock clock;
  auto transport_for = [](const config::App& app) {
    return deliver::Transport{"http://proxy-of-" + app.name + ":3128", "", "", ""};
  };
  RobotReplies replies(http, timers, clock, RobotReplies::TransportFor(transport_for), [] { return 0.0; });
  config::App hr;
  hr.name = "hr";
  hr.dingtalk.api_base = "https://api.dt";
  hr.dingtalk.client_id = "client-hr";
  hr.dingtalk.client_secret = "secret-hr";
  config::App sales = hr;
  sales.name = "sales";
  sales.dingtalk.client_id = "client-sales";
  sales.dingtalk.client_secret = "secret-sales";
  config::Route route;
  route.name = "rr-apps";
  RobotMessage robot;  // no sessionWebhook: straight to the OpenAPI
  robot.conversation_type = "2";
  robot.conversation_id = "cid";

  replies.send(robot, route, hr, kText);
  REQUIRE(http.calls.size() == 1);
  CHECK(http.calls[0].request.url == kTokenUrl);
  CHECK(http.calls[0].request.body.find("client-hr") != std::string::npos);
  CHECK(http.calls[0].request.transport.proxy == "http://proxy-of-hr:3128");
  http.answer(0, 200, kToken);
  REQUIRE(http.calls.size() == 2);
  http.answer(1, 429, "");  // hr is rate-limited: its replies wait
  CHECK(replies.waiting() == 1);

  // sales is not held behind hr's limit, and fetches a token of its own.
  replies.send(robot, route, sales, kText);
  REQUIRE(http.calls.size() == 3);
  CHECK(http.calls[2].request.url == kTokenUrl);
  CHECK(http.calls[2].request.body.find("client-sales") != std::string::npos);
  CHECK(http.calls[2].request.transport.proxy == "http://proxy-of-sales:3128");
  http.answer(2, 200, R"({"accessToken":"tok-sales","expireIn":7200})");
  REQUIRE(http.calls.size() == 4);
  CHECK(http.calls[3].header("x-acs-dingtalk-access-token") == "tok-sales");
  CHECK(replies.token_fetches() == 2);
  const uint64_t sent_before =
      metrics::global()
          .counter("dsb_robot_replies_total",
                   {{"app", "sales"}, {"route", "rr-apps"}, {"via", "openapi"}, {"outcome", "sent"}})
          .value();
  http.answer(3, 200, R"({"processQueryKey":"k"})");
  CHECK(metrics::global()
            .counter("dsb_robot_replies_total",
                     {{"app", "sales"}, {"route", "rr-apps"}, {"via", "openapi"}, {"outcome", "sent"}})
            .value() == sent_before + 1);
}

TEST_CASE("robot replies: the app's OpenAPI endpoint shares the replies' token cache",
          "[robot_replies][openapi]") {
  Fixture f("rr-shared-cache");
  // The endpoint asks first: one fetch.
  dsb::openapi::AccessTokenCache& cache = f.replies.token_cache(f.config);
  std::string got;
  cache.get([&got](dsb::Result<std::string> token) { got = token ? token.value() : "error"; });
  REQUIRE(f.http.calls.size() == 1);
  CHECK(f.http.calls[0].request.url == kTokenUrl);
  f.http.answer(0, 200, kToken);
  CHECK(got == "tok1");
  // A reply that falls back to the OpenAPI uses that token: no second fetch.
  f.robot.session_webhook.clear();
  f.send();
  REQUIRE(f.http.calls.size() == 2);
  CHECK(f.http.calls[1].header("x-acs-dingtalk-access-token") == "tok1");
  CHECK(&f.replies.token_cache(f.config) == &cache);
  CHECK(f.replies.token_fetches() == 1);
}
