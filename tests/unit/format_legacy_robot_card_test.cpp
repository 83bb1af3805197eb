// legacy-robot and legacy-card requests and replies, and the format registry.
#include <catch2/catch.hpp>

#include "deliver/format.hpp"
#include "deliver/legacy_card_format.hpp"
#include "deliver/legacy_event_format.hpp"
#include "deliver/legacy_robot_format.hpp"
#include "deliver/raw_format.hpp"
#include "deliver/signature.hpp"

using namespace dsb::deliver;
using dsb::config::Format;
using dsb::config::Route;
using dsb::stream::Frame;
using dsb::stream::FrameType;
using Headers = std::vector<std::pair<std::string, std::string>>;

namespace {

Frame callback_frame(std::string topic, std::string data) {
  Frame f;
  f.type = FrameType::callback;
  f.headers = {{"messageId", "m-7"}, {"topic", std::move(topic)}};
  f.data = std::move(data);
  return f;
}

Response reply(std::string body) {
  Response r;
  r.status = 200;
  r.body = std::move(body);
  return r;
}

const char* const kRobotData =
    R"({"msgtype":"text","text":{"content":" hi"},"msgId":"msg1","sessionWebhook":"https://oapi.dingtalk.com/robot/sendBySession?session=x"})";

}  // namespace

TEST_CASE("format_for gives each format its implementation", "[legacy][format]") {
  CHECK(dynamic_cast<const RawFormat*>(&format_for(Format::raw)) != nullptr);
  CHECK(dynamic_cast<const LegacyRobotFormat*>(&format_for(Format::legacy_robot)) != nullptr);
  CHECK(dynamic_cast<const LegacyEventFormat*>(&format_for(Format::legacy_event)) != nullptr);
  CHECK(dynamic_cast<const LegacyCardFormat*>(&format_for(Format::legacy_card)) != nullptr);
  CHECK(&format_for(Format::legacy_event) == &format_for(Format::legacy_event));
}

TEST_CASE("raw through the interface: build_raw_request, every 2xx delivered with its body",
          "[legacy][format]") {
  Route route;
  route.signing_secret = "s";
  Frame f = callback_frame("/v1.0/card/instances/callback", R"({"a":1})");
  const std::string url = "http://h/raw";
  auto request = format_for(Format::raw).build({route, url, f, "m-7", 1700000000000, "id", "secret"});
  REQUIRE(request.is_ok());
  Request expected = build_raw_request(route, url, f, "m-7", 1700000000000);
  CHECK(request->url == expected.url);
  CHECK(request->headers == expected.headers);
  CHECK(request->body == expected.body);
  ReplyVerdict verdict = format_for(Format::raw).judge(route, "id", reply("not json"));
  CHECK(verdict.delivered);
  CHECK(verdict.reply == "not json");
}

TEST_CASE("legacy-robot build: body unchanged, timestamp and sign headers (R2)", "[legacy][format]") {
  Route route;
  route.name = "robot";
  route.topic = "/v1.0/im/bot/messages/get";
  route.timeout = std::chrono::milliseconds(3000);
  route.headers = {{"SIGN", "forged"}, {"X-Extra", "1"}};
  Frame f = callback_frame(route.topic, kRobotData);
  const std::string url = "http://h/robot";
  auto request = format_for(Format::legacy_robot)
                     .build({route, url, f, "msg1", 1700000000000, "id",
                             "bridgeAppSecret_0123456789abcdefABCDEF"});
  REQUIRE(request.is_ok());
  CHECK(request->url == "http://h/robot");
  CHECK(request->body == kRobotData);
  CHECK(request->timeout.count() == 3000);
  CHECK(request->headers == Headers{{"Content-Type", "application/json; charset=utf-8"},
                                    {"timestamp", "1700000000000"},
                                    {"sign", "zXuwuHO10XKHI0TLlCacEmxkCcJlYwDX+E6rjcqqb68="},
                                    {"X-Extra", "1"}});
}

TEST_CASE("legacy-robot judge: always delivered, only a robot message is a reply", "[legacy][format]") {
  Route route;
  const WebhookFormat& format = format_for(Format::legacy_robot);
  for (const char* message : {
           R"({"msgtype":"text","text":{"content":"hi"},"at":{"atUserIds":["user123"]}})",
           R"({"msgtype":"markdown","markdown":{"title":"t","text":"#### md"}})",
           R"({"msgtype":"actionCard","actionCard":{"title":"t","text":"md","singleTitle":"Read","singleURL":"https://x"}})",
           R"({"msgtype":"feedCard","feedCard":{"links":[{"title":"t","messageURL":"https://x","picURL":"https://y"}]}})",
           R"({"msgtype":"link","link":{"title":"t","text":"x","messageUrl":"https://x","picUrl":""}})"}) {
    ReplyVerdict verdict = format.judge(route, "id", reply(message));
    CHECK(verdict.delivered);
    CHECK(verdict.reply == message);
  }
  for (const char* not_a_message : {R"({"msgtype":"empty"})", "", "ok", "[]", R"({"text":{"content":"x"}})",
                                    R"({"msgtype":"picture"})", R"({"msgtype":1})"}) {
    INFO(not_a_message);
    ReplyVerdict verdict = format.judge(route, "id", reply(not_a_message));
    CHECK(verdict.delivered);
    CHECK(verdict.reason.empty());
    CHECK(verdict.reply.empty());
  }
  CHECK_FALSE(is_robot_reply_message(R"({"msgtype":"empty"})"));
  CHECK(is_robot_reply_message(R"({"msgtype":"text","text":{"content":"x"}})"));
  CHECK_FALSE(is_robot_reply_message(std::string(1'000'000, '[')));  // too deep to parse
}

TEST_CASE("legacy-card build: body unchanged, signature headers only with api_secret (3.5)",
          "[legacy][format]") {
  const std::string data =
      R"({"extension":"{}","corpId":"dingexamplecorp","type":"actionCallback","userId":"user123","content":"{\"cardPrivateData\":{\"actionIds\":[\"1\"],\"params\":{\"action\":\"accept\"}}}","outTrackId":"card-instance-1"})";
  Frame f = callback_frame("/v1.0/card/instances/callback", data);
  Route route;
  route.topic = "/v1.0/card/instances/callback";
  const std::string url = "http://h/card";
  const WebhookFormat& format = format_for(Format::legacy_card);

  auto plain = format.build({route, url, f, "m-7", 1700000000000, "id", "secret"});
  REQUIRE(plain.is_ok());
  CHECK(plain->body == data);
  CHECK(plain->headers == Headers{{"Content-Type", "application/json"}});

  route.legacy.api_secret = "example-secret";
  auto signed_request = format.build({route, url, f, "m-7", 1700000000000, "id", "secret"});
  REQUIRE(signed_request.is_ok());
  CHECK(signed_request->body == data);
  CHECK(signed_request->headers ==
        Headers{{"Content-Type", "application/json"},
                {"x-ddpaas-signature-timestamp", "1700000000000"},
                {"x-ddpaas-signature", "I85VWQbGCqbDkjEb7rsCEkTKI9QSL3wzLms54MiwXlg="}});
}

TEST_CASE("legacy-card judge: a JSON object is the callback response", "[legacy][format]") {
  Route route;
  const WebhookFormat& format = format_for(Format::legacy_card);
  const std::string update =
      R"({"cardData":{"cardParamMap":{"status":"accepted"}},"userPrivateData":{"cardParamMap":{"btnDisabled":"true"}},"cardUpdateOptions":{"updateCardDataByKey":true,"updatePrivateDataByKey":true}})";
  ReplyVerdict verdict = format.judge(route, "id", reply(update));
  CHECK(verdict.delivered);
  CHECK(verdict.reply == update);

  ReplyVerdict empty_object = format.judge(route, "id", reply("{}"));
  CHECK(empty_object.delivered);
  CHECK(empty_object.reply == "{}");

  ReplyVerdict no_body = format.judge(route, "id", reply(" \r\n"));
  CHECK(no_body.delivered);
  CHECK(no_body.reply.empty());

  ReplyVerdict text = format.judge(route, "id", reply("success"));
  CHECK_FALSE(text.delivered);
  CHECK(text.reason == "card reply is not JSON");
  ReplyVerdict array = format.judge(route, "id", reply("[1]"));
  CHECK_FALSE(array.delivered);
  CHECK(array.reason == "card reply is not a JSON object");

  // Too deep for the recursive parser (common/json.hpp): refused before parsing.
  ReplyVerdict deep = format.judge(route, "id", reply(std::string(1'000'000, '{')));
  CHECK_FALSE(deep.delivered);
  CHECK(deep.reason == "card reply nests too deep");
}

TEST_CASE("signing standard-webhooks signs every format's final body with the frame's id",
          "[legacy][format]") {
  const std::string key = "decoded-whsec-key";
  for (Format format : {Format::raw, Format::legacy_robot, Format::legacy_card,
                        Format::legacy_event}) {
    Route route;
    route.name = "signed";
    route.urls = {"http://h/signed"};
    route.signing = dsb::config::Signing::standard_webhooks;
    route.signing_secret = key;
    route.legacy.token = "bridgeToken123";
    route.legacy.aes_key = "Wq3mZ8vK2pT7rX9yB4nC6dF1hJ5gL0sA2eR8tY3uI7o";
    Frame f = format == Format::legacy_event ? Frame{} : callback_frame("/t", R"({"a":1})");
    if (format == Format::legacy_event) {
      f.type = FrameType::event;
      f.headers = {{"messageId", "m-7"}, {"eventType", "e"}, {"eventId", "ev-7"}};
      f.data = R"({"a":1})";
    }
    auto request = format_for(format).build(
        {route, route.urls[0], f, "ev-7", 1700000001500, "id", "client-secret"});
    REQUIRE(request.is_ok());
    Headers signing;
    for (const auto& header : request->headers) {
      if (header.first.rfind("webhook-", 0) == 0 || header.first.rfind("X-Bridge-", 0) == 0) {
        signing.push_back(header);
      }
    }
    INFO(dsb::config::format_name(format));
    CHECK(signing ==
          Headers{{"webhook-id", "ev-7"},
                  {"webhook-timestamp", "1700000001"},
                  {"webhook-signature",
                   standard_webhooks_signature(key, "ev-7", "1700000001", request->body)}});
  }
}
