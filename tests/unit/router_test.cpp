#include <catch2/catch.hpp>

#include "bridge/router.hpp"

using dsb::bridge::glob_match;
using dsb::bridge::Router;
using dsb::config::Route;
using dsb::stream::Frame;
using dsb::stream::FrameType;

TEST_CASE("glob matching", "[router]") {
  CHECK(glob_match("*", ""));
  CHECK(glob_match("*", "user_add_org"));
  CHECK(glob_match("bpms_*", "bpms_instance_change"));
  CHECK_FALSE(glob_match("bpms_*", "xbpms_instance_change"));
  CHECK(glob_match("*_change", "bpms_task_change"));
  CHECK(glob_match("user_?dd_org", "user_add_org"));
  CHECK_FALSE(glob_match("user_?dd_org", "user_aadd_org"));
  CHECK(glob_match("a*b*c", "aXXbYYbZc"));
  CHECK_FALSE(glob_match("a*b*c", "aXXbYYbZ"));
  CHECK(glob_match("exact", "exact"));
  CHECK_FALSE(glob_match("exact", "exactly"));
  CHECK_FALSE(glob_match("", "x"));
  // Many stars against a long near-miss stays fast (no exponential backtracking).
  CHECK_FALSE(glob_match("*a*a*a*a*a*a*a*a*b", std::string(5000, 'a')));
}

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
