#include "emulator/acks.hpp"
#include "emulator/frames.hpp"

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

using namespace dsb::emulator;

namespace {

FrameIds ids() {
  FrameIds i;
  i.message_id = "m-1";
  i.event_id = "e-gen";
  i.app_id = "app-1";
  i.corp_id = "corp-1";
  i.connection_id = "conn-1";
  i.now_wall_ms = 1700000000123;
  return i;
}

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  return doc;
}

}  // namespace

TEST_CASE("an EVENT frame has every header as a string and double-encoded data", "[emulator]") {
  FrameSpec spec;
  spec.type = "EVENT";
  spec.topic = "ignored";
  spec.event_type = "user_add_org";
  spec.data = R"({"userId":["u1"],"q":"a\"b"})";
  Frame frame = build_frame(spec, ids());
  auto doc = parse(frame.text);

  CHECK(std::string(doc["specVersion"].GetString()) == "1.0");
  CHECK(std::string(doc["type"].GetString()) == "EVENT");
  const auto& h = doc["headers"];
  for (const char* name : {"appId", "connectionId", "contentType", "messageId", "time", "topic",
                           "eventType", "eventId", "eventCorpId", "eventBornTime",
                           "eventUnifiedAppId"}) {
    INFO(name);
    REQUIRE(h.HasMember(name));
    CHECK(h[name].IsString());
  }
  CHECK(std::string(h["topic"].GetString()) == "*");
  CHECK(std::string(h["messageId"].GetString()) == "m-1");
  CHECK(std::string(h["eventId"].GetString()) == "e-gen");
  CHECK(std::string(h["eventType"].GetString()) == "user_add_org");
  CHECK(std::string(h["time"].GetString()) == "1700000000123");
  CHECK(std::string(h["contentType"].GetString()) == "application/json");
  REQUIRE(doc["data"].IsString());
  CHECK(std::string(doc["data"].GetString()) == spec.data);
  CHECK(frame.message_id == "m-1");
  CHECK(frame.event_id == "e-gen");
}

TEST_CASE("header overrides replace defaults and are reflected in the frame's ids", "[emulator]") {
  FrameSpec spec;
  spec.type = "EVENT";
  spec.event_id = "given";
  spec.headers = {{"messageId", "custom"}, {"x-extra", "1"}};
  Frame frame = build_frame(spec, ids());
  CHECK(frame.message_id == "custom");
  CHECK(frame.event_id == "given");
  auto doc = parse(frame.text);
  CHECK(std::string(doc["headers"]["x-extra"].GetString()) == "1");
  CHECK(std::string(doc["headers"]["messageId"].GetString()) == "custom");
}

TEST_CASE("CALLBACK and SYSTEM frames keep their topic and carry no event headers", "[emulator]") {
  FrameSpec cb;
  cb.type = "CALLBACK";
  cb.topic = "/v1.0/card/instances/callback";
  auto doc = parse(build_frame(cb, ids()).text);
  CHECK(std::string(doc["headers"]["topic"].GetString()) == cb.topic);
  CHECK(std::string(doc["headers"]["appId"].GetString()) == "app-1");
  CHECK_FALSE(doc["headers"].HasMember("eventId"));

  FrameSpec ping;
  ping.type = "SYSTEM";
  ping.topic = "ping";
  auto sys = parse(build_frame(ping, ids()).text);
  CHECK(std::string(sys["headers"]["topic"].GetString()) == "ping");
  CHECK_FALSE(sys["headers"].HasMember("appId"));
}

TEST_CASE("subscription rules decide delivery", "[emulator]") {
  std::vector<Subscription> subs = {{"CALLBACK", "/v1.0/im/bot/messages/get"}};
  CHECK(subscribed(subs, "SYSTEM", "ping"));
  CHECK_FALSE(subscribed(subs, "EVENT", "*"));
  CHECK(subscribed(subs, "CALLBACK", "/v1.0/im/bot/messages/get"));
  CHECK_FALSE(subscribed(subs, "CALLBACK", "/v1.0/card/instances/callback"));
  subs.push_back({"EVENT", "*"});
  CHECK(subscribed(subs, "EVENT", "*"));
  CHECK_FALSE(subscribed({{"EVENT", "user_add_org"}}, "EVENT", "*"));
}

TEST_CASE("robot data gets a sessionWebhook unless it has one", "[emulator]") {
  std::string out = with_session_webhook(R"({"msgId":"m"})", "http://h/robot?session=s", 42);
  auto doc = parse(out);
  CHECK(std::string(doc["sessionWebhook"].GetString()) == "http://h/robot?session=s");
  CHECK(doc["sessionWebhookExpiredTime"].GetInt64() == 42);

  std::string kept = with_session_webhook(
      R"({"sessionWebhook":"mine","sessionWebhookExpiredTime":7})", "http://h", 42);
  auto k = parse(kept);
  CHECK(std::string(k["sessionWebhook"].GetString()) == "mine");
  CHECK(k["sessionWebhookExpiredTime"].GetInt64() == 7);
  CHECK(with_session_webhook("not json", "u", 1) == "not json");
}

TEST_CASE("valid ACKs are parsed with their status", "[emulator]") {
  auto ack = parse_ack(
      R"({"code":200,"headers":{"messageId":"m1","contentType":"application/json"},"message":"OK","data":"{\"status\":\"LATER\",\"message\":\"x\"}"})");
  REQUIRE(ack);
  CHECK(ack->message_id == "m1");
  CHECK(ack->code == 200);
  CHECK(ack->message == std::optional<std::string>("OK"));
  CHECK(ack->status == "LATER");

  auto bare = parse_ack(R"({"code":404,"headers":{"messageId":"m2"}})");
  REQUIRE(bare);
  CHECK_FALSE(bare->data);
  CHECK(bare->status.empty());
}

TEST_CASE("invalid ACKs are refused with a reason", "[emulator]") {
  CHECK(parse_ack("nope").status().message() == "not JSON");
  CHECK(parse_ack("[1]").status().message() == "not a JSON object");
  CHECK(parse_ack(R"({"code":200,"headers":{}})").status().message() ==
        "headers.messageId missing");
  CHECK(parse_ack(R"({"code":"200","headers":{"messageId":"m"}})").status().message() ==
        "code missing or not an integer");
  CHECK(parse_ack(R"({"code":200,"headers":{"messageId":"m"},"data":{"status":"SUCCESS"}})")
            .status()
            .message() == "data is not a string");
  CHECK(salvage_message_id(R"({"headers":{"messageId":"m9"},"data":{}})") == "m9");
  CHECK(salvage_message_id("x").empty());
}
