// The Stream envelope: what parse_frame accepts, what it rejects (and whether the messageId
// survives for a 400 ACK), and the exact shape of every ACK we write.
#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include "stream/frame.hpp"

using namespace dsb::stream;

namespace {

const char* kEvent = R"({"specVersion":"1.0","type":"EVENT",
  "headers":{"appId":"app1","contentType":"application/json","messageId":"m-1","time":"1693221579964",
             "topic":"*","eventType":"user_add_org","eventId":"e-1","eventCorpId":"corp",
             "eventBornTime":"1683533823336","x-unknown":"kept"},
  "data":"{\"timeStamp\":\"1685501863357\",\"userId\":[\"u1\"]}"})";

rapidjson::Document parse_json(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  return doc;
}

}  // namespace

TEST_CASE("an EVENT frame keeps every header and the data string verbatim", "[frame]") {
  ParsedFrame parsed = parse_frame(kEvent);
  REQUIRE(parsed.status.is_ok());
  const Frame& frame = *parsed.frame;
  CHECK(frame.type == FrameType::event);
  CHECK(frame.spec_version == "1.0");
  CHECK(frame.message_id() == "m-1");
  CHECK(frame.topic() == "*");
  CHECK(frame.header("eventType") == "user_add_org");
  CHECK(frame.header("x-unknown") == "kept");
  CHECK(frame.header("absent").empty());
  CHECK(frame.headers.size() == 10);
  CHECK(frame.data == R"({"timeStamp":"1685501863357","userId":["u1"]})");
}

TEST_CASE("a SYSTEM frame may omit data and specVersion", "[frame]") {
  ParsedFrame parsed =
      parse_frame(R"({"type":"SYSTEM","headers":{"messageId":"s1","topic":"disconnect"}})");
  REQUIRE(parsed.status.is_ok());
  CHECK(parsed.frame->type == FrameType::system);
  CHECK(parsed.frame->data.empty());
  CHECK(parsed.frame->topic() == "disconnect");
}

TEST_CASE("malformed frames are rejected with a reason and the messageId when known",
          "[frame]") {
  struct Case {
    const char* text;
    const char* reason_fragment;
    const char* message_id;
  };
  const Case cases[] = {
      {"{not json", "invalid JSON at offset 1", ""},
      {"[1,2]", "not a JSON object", ""},
      {R"({"headers":{"messageId":"a","topic":"t"},"data":"{}"})", "missing or non-string \"type\"",
       "a"},
      {R"({"type":"PUSH","headers":{"messageId":"b","topic":"t"},"data":"{}"})",
       "unknown frame type \"PUSH\"", "b"},
      {R"({"type":"EVENT","data":"{}"})", "missing \"headers\"", ""},
      {R"({"type":"EVENT","headers":[],"data":"{}"})", "\"headers\" is not an object", ""},
      {R"({"type":"EVENT","headers":{"messageId":"c","topic":"*","time":1},"data":"{}"})",
       "header \"time\" is not a string", "c"},
      {R"({"type":"EVENT","headers":{"topic":"*"},"data":"{}"})", "missing or empty headers.messageId",
       ""},
      {R"({"type":"EVENT","headers":{"messageId":"d"},"data":"{}"})", "missing or empty headers.topic",
       "d"},
      {R"({"type":"CALLBACK","headers":{"messageId":"e","topic":"/x"}})", "missing \"data\"", "e"},
      {R"({"type":"CALLBACK","headers":{"messageId":"f","topic":"/x"},"data":{"a":1}})",
       "\"data\" is not a string", "f"},
      {R"({"type":"EVENT","headers":{"messageId":"g","topic":"*"},"data":"{oops"})",
       "\"data\" is not valid JSON", "g"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    ParsedFrame parsed = parse_frame(c.text);
    REQUIRE_FALSE(parsed.status.is_ok());
    CHECK_FALSE(parsed.frame.has_value());
    CHECK_THAT(parsed.status.message(), Catch::Matchers::Contains(c.reason_fragment));
    CHECK(parsed.message_id == c.message_id);
  }
}

TEST_CASE("a ping ACK copies messageId and data verbatim", "[frame]") {
  ParsedFrame parsed = parse_frame(
      R"({"specVersion":"1.0","type":"SYSTEM","headers":{"contentType":"application/json","messageId":"p1","time":"1","topic":"ping"},"data":"{\"opaque\":\"9d5e7f2a\"}"})");
  REQUIRE(parsed.status.is_ok());
  const std::string wire = serialize_ack(ack_system(*parsed.frame));
  CHECK(wire ==
        R"({"code":200,"headers":{"contentType":"application/json","messageId":"p1"},"message":"OK","data":"{\"opaque\":\"9d5e7f2a\"}"})");
}

// Was code 200 with no `data`, which no official SDK sends (issue 12).
TEST_CASE("a disconnect ACK is code 200 with the frame's data as a JSON string", "[frame]") {
  ParsedFrame parsed = parse_frame(
      R"({"specVersion":"1.0","type":"SYSTEM","headers":{"contentType":"application/json","messageId":"d1","topic":"disconnect"},"data":"{\"reason\":\"persistent connection is timeout\"}"})");
  REQUIRE(parsed.status.is_ok());
  CHECK(serialize_ack(ack_system(*parsed.frame)) ==
        R"({"code":200,"headers":{"contentType":"application/json","messageId":"d1"},"message":"OK","data":"{\"reason\":\"persistent connection is timeout\"}"})");

  // DingTalk's own disconnect example has no data; a SYSTEM frame's data is not checked as
  // JSON on the way in. Either way the ACK still carries a JSON text.
  for (const char* text :
       {R"({"type":"SYSTEM","headers":{"messageId":"d2","topic":"disconnect"}})",
        R"({"type":"SYSTEM","headers":{"messageId":"d2","topic":"disconnect"},"data":"not json"})"}) {
    INFO(text);
    ParsedFrame bare = parse_frame(text);
    REQUIRE(bare.status.is_ok());
    auto ack = parse_json(serialize_ack(ack_system(*bare.frame)));
    CHECK(ack["code"].GetInt() == 200);
    CHECK(std::string(ack["data"].GetString()) == "{}");
  }
}

TEST_CASE("event ACKs say SUCCESS or LATER with code 200", "[frame]") {
  auto success = parse_json(serialize_ack(ack_event("m-1", true)));
  CHECK(success["code"].GetInt() == 200);
  CHECK(std::string(success["headers"]["messageId"].GetString()) == "m-1");
  auto data = parse_json(success["data"].GetString());
  CHECK(std::string(data["status"].GetString()) == "SUCCESS");

  auto later = parse_json(serialize_ack(ack_event("m-2", false, "webhook returned 503")));
  CHECK(later["code"].GetInt() == 200);
  auto later_data = parse_json(later["data"].GetString());
  CHECK(std::string(later_data["status"].GetString()) == "LATER");
  CHECK(std::string(later_data["message"].GetString()) == "webhook returned 503");
}

TEST_CASE("callback ACKs wrap the reply in response, errors omit data", "[frame]") {
  CHECK(serialize_ack(ack_callback("c1", "null")) ==
        R"({"code":200,"headers":{"contentType":"application/json","messageId":"c1"},"message":"OK","data":"{\"response\":null}"})");
  auto card = parse_json(serialize_ack(ack_callback("c2", R"({"cardData":{"cardParamMap":{"s":"ok"}}})")));
  auto card_data = parse_json(card["data"].GetString());
  CHECK(std::string(card_data["response"]["cardData"]["cardParamMap"]["s"].GetString()) == "ok");

  CHECK(serialize_ack(ack_error("x\"1", 400, "bad \"data\"")) ==
        R"({"code":400,"headers":{"contentType":"application/json","messageId":"x\"1"},"message":"bad \"data\""})");
}

// Found by tests/fuzz/fuzz_frame: RapidJSON's parser recursed once per "[" and a deeply
// nested frame (the default limits.max_frame allows 4 MiB of them) overflowed the stack.
TEST_CASE("a frame nested past json::kMaxDepth is refused, not parsed", "[frame]") {
  const std::string deep(1'000'000, '[');
  SECTION("the envelope; the messageId is still found for the 400 ACK") {
    ParsedFrame parsed = parse_frame(R"({"headers":{"messageId":"m-deep","topic":"*"},"x":)" + deep);
    REQUIRE_FALSE(parsed.status.is_ok());
    CHECK(parsed.status.message() == "frame nests deeper than 256 levels");
    CHECK(parsed.message_id == "m-deep");
  }
  SECTION("the data of a business frame and of a SYSTEM frame") {
    for (const char* type : {"EVENT", "SYSTEM"}) {
      ParsedFrame parsed = parse_frame(std::string(R"({"type":")") + type +
                                       R"(","headers":{"messageId":"m-deep","topic":"disconnect"},"data":")" +
                                       deep + "\"}");
      REQUIRE_FALSE(parsed.status.is_ok());
      CHECK(parsed.status.message() == "\"data\" nests deeper than 256 levels");
      CHECK(parsed.message_id == "m-deep");
    }
  }
  SECTION("256 levels are still accepted") {
    const std::string data = std::string(256, '[') + std::string(256, ']');
    ParsedFrame parsed =
        parse_frame(R"({"type":"EVENT","headers":{"messageId":"m","topic":"*"},"data":")" + data + "\"}");
    CHECK(parsed.status.is_ok());
  }
}

TEST_CASE("ack_status labels LATER, other code-200 ACKs and errors", "[frame]") {
  CHECK(ack_status(ack_event("m", false, "webhook returned 503")) == "later");
  CHECK(ack_status(ack_event("m", true)) == "ok");
  CHECK(ack_status(ack_callback("m", "{\"status\":\"LATER\"}")) == "ok");  // a reply, not a status
  CHECK(ack_status(Ack{"m", 200, "OK", std::nullopt}) == "ok");
  CHECK(ack_status(ack_error("m", 404, "no route for topic")) == "error");
}
