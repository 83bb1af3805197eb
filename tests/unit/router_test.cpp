#include <catch2/catch.hpp>

#include "bridge/router.hpp"

using dsb::bridge::Router;
using dsb::config::Route;
using dsb::stream::Frame;
using dsb::stream::FrameType;

namespace {

Route event_route(const char* name, const char* glob) {
  Route r;
  r.name = name;
  r.event = glob;
  return r;
}

Route callback_route(const char* name, const char* topic) {
  Route r;
  r.name = name;
  r.topic = topic;
  return r;
}

Frame frame(FrameType type, const char* topic, const char* event_type = nullptr) {
  Frame f;
  f.type = type;
  f.headers = {{"messageId", "m"}, {"topic", topic}};
  if (event_type) f.headers.emplace_back("eventType", event_type);
  return f;
}

}  // namespace

TEST_CASE("first matching route wins, callbacks by topic, events by eventType", "[router]") {
  const std::vector<Route> routes = {
      callback_route("robot", "/v1.0/im/bot/messages/get"),
      event_route("approvals", "bpms_*"),
      callback_route("robot-again", "/v1.0/im/bot/messages/get"),
      event_route("everything", "*"),
  };
  Router router(routes);

  const Route* robot = router.match(frame(FrameType::callback, "/v1.0/im/bot/messages/get"));
  REQUIRE(robot != nullptr);
  CHECK(robot->name == "robot");
  CHECK(router.match(frame(FrameType::callback, "/v1.0/card/instances/callback")) == nullptr);

  CHECK(router.match(frame(FrameType::event, "*", "bpms_task_change"))->name == "approvals");
  CHECK(router.match(frame(FrameType::event, "*", "user_add_org"))->name == "everything");
  // An event's topic header is never used for routing: only eventType.
  CHECK(router.match(frame(FrameType::event, "/v1.0/im/bot/messages/get", "chat_x"))->name ==
        "everything");
  CHECK(router.match(frame(FrameType::system, "ping")) == nullptr);
}

TEST_CASE("without an event route, events are unrouted", "[router]") {
  const std::vector<Route> routes = {callback_route("robot", "/v1.0/im/bot/messages/get")};
  Router router(routes);
  CHECK(router.match(frame(FrameType::event, "*", "user_add_org")) == nullptr);
}

namespace {

const char* const kRobotTopic = "/v1.0/im/bot/messages/get";

Route robot_route(const char* name, std::vector<std::pair<const char*, const char*>> match) {
  Route r = callback_route(name, kRobotTopic);
  for (const auto& [field, glob] : match) {
    auto path = dsb::config::parse_field_path(field);
    REQUIRE(path);
    r.match.push_back({path.value(), glob});
  }
  return r;
}

Frame robot_frame(std::string data) {
  Frame f = frame(FrameType::callback, kRobotTopic);
  f.data = std::move(data);
  return f;
}

// The matching route's name, or "" for none.
std::string routed(const Router& router, const Frame& f) {
  const Route* route = router.match(f);
  return route ? route->name : "";
}

}  // namespace

TEST_CASE("match: two robots of one app go to their own routes by robotCode", "[router]") {
  const std::vector<Route> routes = {robot_route("sales", {{"robotCode", "dingSALES"}}),
                                     robot_route("support", {{"robotCode", "dingSUPPORT*"}})};
  Router router(routes);
  CHECK(routed(router, robot_frame(R"({"msgId":"m1","robotCode":"dingSALES"})")) == "sales");
  CHECK(routed(router, robot_frame(R"({"msgId":"m1","robotCode":"dingSUPPORT2"})")) == "support");
  CHECK(routed(router, robot_frame(R"({"msgId":"m1","robotCode":"dingOTHER"})")).empty());
}

TEST_CASE("match: a group by conversationId prefix, then a catch-all", "[router]") {
  const std::vector<Route> routes = {robot_route("vip", {{"conversationId", "cidVIP+/=*"}}),
                                     callback_route("rest", kRobotTopic)};
  Router router(routes);
  CHECK(routed(router, robot_frame(R"({"conversationId":"cidVIP+/=abc$:1"})")) == "vip");
  CHECK(routed(router, robot_frame(R"({"conversationId":"cidOTHER"})")) == "rest");
}

TEST_CASE("match: numbers and booleans match their JSON text", "[router]") {
  const std::vector<Route> routes = {robot_route("at-me", {{"isInAtList", "true"}, {"count", "4?"}})};
  Router router(routes);
  CHECK(routed(router, robot_frame(R"({"isInAtList":true,"count":42})")) == "at-me");
  CHECK(routed(router, robot_frame(R"({"isInAtList":false,"count":42})")).empty());
  CHECK(routed(router, robot_frame(R"({"isInAtList":true,"count":420})")).empty());
  // A string "true" is text like any other.
  CHECK(routed(router, robot_frame(R"({"isInAtList":"true","count":"41"})")) == "at-me");
}

TEST_CASE("match: every field must be present and match, and null, objects, lists never match",
          "[router]") {
  const std::vector<Route> routes = {
      robot_route("both", {{"robotCode", "dingA"}, {"conversationType", "2"}})};
  Router router(routes);
  CHECK(routed(router, robot_frame(R"({"robotCode":"dingA","conversationType":"2"})")) == "both");
  CHECK(routed(router, robot_frame(R"({"robotCode":"dingA"})")).empty());
  CHECK(routed(router, robot_frame(R"({"robotCode":"dingA","conversationType":null})")).empty());
  CHECK(routed(router, robot_frame(R"({"robotCode":"dingA","conversationType":["2"]})")).empty());
  CHECK(routed(router, robot_frame(R"({"robotCode":"dingA","conversationType":{"v":"2"}})")).empty());
  // "*" still needs the field to be there.
  const std::vector<Route> any = {robot_route("any", {{"robotCode", "*"}})};
  CHECK(routed(Router(any), robot_frame(R"({"robotCode":""})")) == "any");
  CHECK(routed(Router(any), robot_frame(R"({"msgId":"m"})")).empty());
}

TEST_CASE("match: dotted paths reach into objects", "[router]") {
  const std::vector<Route> routes = {robot_route("help", {{"text.content", "*help*"}})};
  Router router(routes);
  CHECK(routed(router, robot_frame(R"({"text":{"content":" please help me"}})")) == "help");
  CHECK(routed(router, robot_frame(R"({"text":{"content":"hello"}})")).empty());
  CHECK(routed(router, robot_frame(R"({"text":"help"})")).empty());
  CHECK(routed(router, robot_frame(R"({"text.content":"help"})")).empty());
}

TEST_CASE("match: the first matching route wins, in file order", "[router]") {
  const std::vector<Route> routes = {robot_route("first", {{"robotCode", "ding*"}}),
                                     robot_route("second", {{"robotCode", "dingA"}}),
                                     callback_route("fallback", kRobotTopic)};
  Router router(routes);
  CHECK(routed(router, robot_frame(R"({"robotCode":"dingA"})")) == "first");
  CHECK(routed(router, robot_frame(R"({"robotCode":"xA"})")) == "fallback");
}

TEST_CASE("match: data that is not a JSON object matches no route with match", "[router]") {
  const std::vector<Route> routes = {robot_route("any", {{"robotCode", "*"}}),
                                     callback_route("fallback", kRobotTopic)};
  Router router(routes);
  CHECK(routed(router, robot_frame("not json")) == "fallback");
  CHECK(routed(router, robot_frame(R"(["robotCode"])")) == "fallback");
  CHECK(routed(router, robot_frame(R"("robotCode")")) == "fallback");
  CHECK(routed(router, robot_frame("")) == "fallback");
}

TEST_CASE("match on event routes, beside the eventType glob", "[router]") {
  Route corp = event_route("corp-a", "bpms_*");
  corp.match.push_back({dsb::config::parse_field_path("corpId").value(), "dingCORP_A"});
  const std::vector<Route> routes = {corp, event_route("rest", "*")};
  Router router(routes);
  Frame f = frame(FrameType::event, "*", "bpms_task_change");
  f.data = R"({"corpId":"dingCORP_A"})";
  CHECK(routed(router, f) == "corp-a");
  f.data = R"({"corpId":"dingCORP_B"})";
  CHECK(routed(router, f) == "rest");
}

TEST_CASE("match: the data is parsed only when a candidate route has match", "[router]") {
  Route with_match = robot_route("m", {{"robotCode", "dingA"}});
  with_match.topic = "/v1.0/other";
  const std::vector<Route> routes = {with_match, callback_route("plain", kRobotTopic)};
  Router router(routes);
  Frame f = robot_frame(R"({"robotCode":"dingA"})");
  dsb::bridge::FrameData data(f.data);
  CHECK(router.match(f, data)->name == "plain");
  CHECK_FALSE(data.parsed());  // the route with match is for another topic

  Frame other = frame(FrameType::callback, "/v1.0/other");
  other.data = R"({"robotCode":"dingA"})";
  dsb::bridge::FrameData other_data(other.data);
  CHECK(router.match(other, other_data)->name == "m");
  CHECK(other_data.parsed());
}

TEST_CASE("has_callback_topic: any callback route for the topic, whatever its match", "[router]") {
  std::vector<Route> routes = {callback_route("bot", "/v1.0/im/bot/messages/get"),
                               event_route("all", "*")};
  routes[0].match.push_back({dsb::config::parse_field_path("robotCode").value(), "dingA"});
  Router router(routes);
  CHECK(router.has_callback_topic("/v1.0/im/bot/messages/get"));
  CHECK_FALSE(router.has_callback_topic("/v1.0/card/instances/callback"));
  CHECK_FALSE(router.has_callback_topic("*"));  // an event route's glob is no topic
}
