#include <catch2/catch.hpp>

#include "bridge/dedup.hpp"

using namespace dsb::bridge;
using dsb::stream::Frame;
using dsb::stream::FrameType;

TEST_CASE("dedup keys: eventId, then robotCode and data.msgId, then messageId", "[dedup]") {
  Frame event;
  event.type = FrameType::event;
  event.headers = {{"messageId", "m1"}, {"topic", "*"}, {"eventId", "e1"}};
  CHECK(dedup_key(event, {}) == "event:e1");

  Frame robot;
  robot.type = FrameType::callback;
  robot.headers = {{"messageId", "m2"}, {"topic", "/v1.0/im/bot/messages/get"}};
  CHECK(dedup_key(robot, {"dingA", "msgABC=="}) == "msg:dingA/msgABC==");
  CHECK(dedup_key(robot, {"", "msgABC=="}) == "msg:msgABC==");
  CHECK(dedup_key(robot, {"dingA", ""}) == "frame:m2");
  CHECK(dedup_key(robot, {}) == "frame:m2");

  Frame event_without_id;
  event_without_id.type = FrameType::event;
  event_without_id.headers = {{"messageId", "m3"}, {"topic", "*"}};
  CHECK(dedup_key(event_without_id, {}) == "frame:m3");
}

TEST_CASE("dedup keys: one message for two robots is two keys, never confused", "[dedup]") {
  Frame robot;
  robot.type = FrameType::callback;
  robot.headers = {{"messageId", "m2"}, {"topic", "/v1.0/im/bot/messages/get"}};
  CHECK(dedup_key(robot, {"dingA", "msg1"}) != dedup_key(robot, {"dingB", "msg1"}));
  // The separator and the escape are encoded in the robot code, so no two pairs share a key.
  CHECK(dedup_key(robot, {"a/b", "c"}) == "msg:a%2Fb/c");
  CHECK(dedup_key(robot, {"a", "b/c"}) == "msg:a/b/c");
  CHECK(dedup_key(robot, {"a%2Fb", "c"}) == "msg:a%252Fb/c");
  CHECK(dedup_key(robot, {"a\r\nb", "c"}) == "msg:a%0D%0Ab/c");
}

TEST_CASE("the memory store remembers outcomes for the window, then forgets", "[dedup]") {
  MemoryDedupStore store(/*window_ms=*/1000);
  CHECK_FALSE(store.find("event:e1", 0).has_value());

  DeliveredOutcome replied;
  replied.reply = R"({"ok":true})";
  store.remember("event:e1", replied, 100);
  auto hit = store.find("event:e1", 1099);
  REQUIRE(hit.has_value());
  CHECK(hit->complete);
  CHECK(hit->reply == R"({"ok":true})");

  CHECK_FALSE(store.find("event:e1", 1100).has_value());
  CHECK(store.size() == 0);
}

TEST_CASE("remembering a key again extends it, the stale expiry does not evict it", "[dedup]") {
  MemoryDedupStore store(1000);
  DeliveredOutcome a, b;
  a.reply = "a";
  b.reply = "b";
  store.remember("k", a, 0);
  store.remember("k", b, 500);
  auto hit = store.find("k", 1200);  // past the first expiry, before the second
  REQUIRE(hit.has_value());
  CHECK(hit->reply == "b");
  CHECK_FALSE(store.find("k", 1500).has_value());
}

TEST_CASE("Idempotency-Key: eventId, msgId unscoped by robot, else messageId", "[dedup]") {
  using dsb::bridge::idempotency_key;
  Frame event;
  event.type = FrameType::event;
  event.headers = {{"messageId", "m1"}, {"eventId", "ev1"}};
  CHECK(idempotency_key(event, {}) == "ev1");
  Frame robot;
  robot.type = FrameType::callback;
  robot.headers = {{"messageId", "m2"}, {"topic", "/v1.0/im/bot/messages/get"}};
  // Two robots given one message: one dedup key each, one Idempotency-Key.
  CHECK(idempotency_key(robot, {"dingA", "msg/1+="}) == "msg/1+=");
  CHECK(idempotency_key(robot, {"dingB", "msg/1+="}) == "msg/1+=");
  CHECK(dsb::bridge::dedup_key(robot, {"dingA", "msg/1+="}) !=
        dsb::bridge::dedup_key(robot, {"dingB", "msg/1+="}));
  CHECK(idempotency_key(robot, {}) == "m2");
}
