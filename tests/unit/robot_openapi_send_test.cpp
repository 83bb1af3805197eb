// Robot replies mapped to the OpenAPI robot-send templates (bridge/robot_openapi_send.hpp).
#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <string>

#include "bridge/robot_openapi_send.hpp"

using dsb::bridge::build_openapi_send;
using dsb::bridge::map_reply_template;
using dsb::bridge::RobotMessage;

namespace {

// "msgKey msgParam" of a mappable reply, or "error: reason".
std::string mapped(const std::string& reply) {
  auto result = map_reply_template(reply);
  if (!result) return "error: " + result.status().message();
  return result->msg_key + " " + result->msg_param;
}

RobotMessage group_message() {
  RobotMessage m;
  m.conversation_type = "2";
  m.conversation_id = "cidGROUP==";
  m.sender_staff_id = "user1";
  m.robot_code = "dingrobot";
  return m;
}

}  // namespace

TEST_CASE("robot openapi: text and markdown", "[robot_openapi]") {
  CHECK(mapped(R"({"msgtype":"text","text":{"content":"hi \"you\""},"at":{"isAtAll":false}})") ==
        R"(sampleText {"content":"hi \"you\""})");
  CHECK(mapped(R"({"msgtype":"markdown","markdown":{"title":"T","text":"# h\n> q"}})") ==
        R"(sampleMarkdown {"title":"T","text":"# h\n> q"})");
  CHECK(mapped(R"({"msgtype":"markdown","markdown":{"text":"x"}})") ==
        "error: markdown.title must be a string");
  CHECK(mapped(R"({"msgtype":"text","text":{"content":5}})") ==
        "error: text.content must be a string");
}

TEST_CASE("robot openapi: actionCard, single and multi-button", "[robot_openapi]") {
  CHECK(mapped(R"({"msgtype":"actionCard","actionCard":{"title":"T","text":"x","singleTitle":"Go","singleURL":"https://a"}})") ==
        R"(sampleActionCard {"title":"T","text":"x","singleTitle":"Go","singleURL":"https://a"})");
  const std::string three =
      R"({"msgtype":"actionCard","actionCard":{"title":"T","text":"x","btns":[)"
      R"({"title":"A","actionURL":"https://a"},{"title":"B","actionURL":"https://b"},{"title":"C","actionURL":"https://c"}]}})";
  CHECK(mapped(three) ==
        R"(sampleActionCard3 {"title":"T","text":"x","actionTitle1":"A","actionURL1":"https://a",)"
        R"("actionTitle2":"B","actionURL2":"https://b","actionTitle3":"C","actionURL3":"https://c"})");
  CHECK(mapped(R"({"msgtype":"actionCard","actionCard":{"title":"T","text":"x","btnOrientation":"1","btns":[)"
               R"({"title":"A","actionURL":"https://a"},{"title":"B","actionURL":"https://b"}]}})") ==
        R"(sampleActionCard6 {"title":"T","text":"x","buttonTitle1":"A","buttonUrl1":"https://a",)"
        R"("buttonTitle2":"B","buttonUrl2":"https://b"})");
  CHECK(mapped(R"({"msgtype":"actionCard","actionCard":{"title":"T","text":"x","btns":[{"title":"A","actionURL":"https://a"}]}})") ==
        R"(sampleActionCard {"title":"T","text":"x","singleTitle":"A","singleURL":"https://a"})");
  std::string six = R"({"msgtype":"actionCard","actionCard":{"title":"T","text":"x","btns":[)";
  for (int i = 0; i < 6; ++i) six += std::string(i ? "," : "") + R"({"title":"A","actionURL":"u"})";
  six += "]}}";
  CHECK(mapped(six) == "error: actionCard has 6 btns; the OpenAPI templates take at most 5");
  CHECK(mapped(R"({"msgtype":"actionCard","actionCard":{"title":"T","text":"x","btns":[{"title":"A"},{"title":"B","actionURL":"u"}]}})") ==
        "error: actionCard.btns[0] needs string title and actionURL");
  CHECK(mapped(R"({"msgtype":"actionCard","actionCard":{"title":"T","text":"x"}})") ==
        "error: actionCard.singleTitle must be a string");
}

TEST_CASE("robot openapi: link, picUrl optional", "[robot_openapi]") {
  CHECK(mapped(R"({"msgtype":"link","link":{"text":"t","title":"T","picUrl":"https://p","messageUrl":"https://m"}})") ==
        R"(sampleLink {"text":"t","title":"T","picUrl":"https://p","messageUrl":"https://m"})");
  CHECK(mapped(R"({"msgtype":"link","link":{"text":"t","title":"T","messageUrl":"https://m"}})") ==
        R"(sampleLink {"text":"t","title":"T","picUrl":"","messageUrl":"https://m"})");
}

TEST_CASE("robot openapi: what has no template is an error, not a guess", "[robot_openapi]") {
  CHECK(mapped(R"({"msgtype":"feedCard","feedCard":{"links":[]}})") ==
        "error: msgtype feedCard has no OpenAPI template");
  CHECK(mapped(R"({"msgtype":"text"})") == "error: reply has no text object");
  CHECK(mapped(R"([1])") == "error: reply is not a JSON object");
  CHECK(mapped(R"({"text":{"content":"x"}})") == "error: reply has no string msgtype");
  const std::string big(16'000, 'x');
  CHECK(mapped(R"({"msgtype":"text","text":{"content":")" + big + R"("}})") ==
        "error: msgParam is 16014 bytes; DingTalk takes at most 15000");
}

TEST_CASE("robot openapi: a group reply goes to groupMessages/send", "[robot_openapi]") {
  auto send = build_openapi_send(group_message(), R"({"msgtype":"text","text":{"content":"hi"}})", "client");
  REQUIRE(send);
  CHECK(send->path == "/v1.0/robot/groupMessages/send");
  CHECK(send->body ==
        R"({"robotCode":"dingrobot","openConversationId":"cidGROUP==","msgKey":"sampleText","msgParam":"{\"content\":\"hi\"}"})");
  rapidjson::Document doc;  // msgParam is a string holding JSON
  doc.Parse(send->body.c_str());
  REQUIRE(doc["msgParam"].IsString());
}

TEST_CASE("robot openapi: a 1:1 reply goes to oToMessages/batchSend", "[robot_openapi]") {
  RobotMessage m = group_message();
  m.conversation_type = "1";
  m.robot_code.clear();  // falls back to the app's client_id
  auto send = build_openapi_send(m, R"({"msgtype":"text","text":{"content":"hi"}})", "client");
  REQUIRE(send);
  CHECK(send->path == "/v1.0/robot/oToMessages/batchSend");
  CHECK(send->body ==
        R"({"robotCode":"client","userIds":["user1"],"msgKey":"sampleText","msgParam":"{\"content\":\"hi\"}"})");
}

TEST_CASE("robot openapi: no recipient, no send", "[robot_openapi]") {
  const std::string text = R"({"msgtype":"text","text":{"content":"hi"}})";
  RobotMessage m = group_message();
  m.conversation_type = "1";
  m.sender_staff_id.clear();
  CHECK(build_openapi_send(m, text, "c").status().message() ==
        "a 1:1 message without senderStaffId (external user?) has no OpenAPI recipient");
  m = group_message();
  m.conversation_id.clear();
  CHECK_FALSE(build_openapi_send(m, text, "c"));
  m.conversation_type = "";
  CHECK(build_openapi_send(m, text, "c").status().message() == "the message has no conversationType");
  m.conversation_type = "3";
  CHECK(build_openapi_send(m, text, "c").status().message() == "conversationType 3 is neither 1 nor 2");
  m = group_message();
  m.robot_code.clear();
  CHECK(build_openapi_send(m, text, "").status().message() == "no robotCode and no client_id");
  CHECK(build_openapi_send(group_message(), R"({"msgtype":"feedCard","feedCard":{}})", "c")
            .status().message() == "msgtype feedCard has no OpenAPI template");
}

TEST_CASE("robot openapi: an at block is dropped, the rest sent, and the drop reported",
          "[robot_openapi]") {
  auto drops = [](const std::string& reply) {
    auto result = map_reply_template(reply);
    REQUIRE(result);
    return result->mentions_dropped;
  };
  const std::string text = R"({"msgtype":"text","text":{"content":"@u2 done"})";
  CHECK_FALSE(drops(text + "}"));
  CHECK_FALSE(drops(text + R"(,"at":{"isAtAll":false,"atUserIds":[]}})"));
  CHECK_FALSE(drops(text + R"(,"at":"nobody"})"));
  CHECK(drops(text + R"(,"at":{"isAtAll":true}})"));
  CHECK(drops(text + R"(,"at":{"atUserIds":["u2"]}})"));
  CHECK(drops(text + R"(,"at":{"atMobiles":["138"]}})"));
  CHECK(drops(text + R"(,"at":{"atDingtalkIds":["d2"]}})"));

  auto send = build_openapi_send(group_message(), text + R"(,"at":{"atUserIds":["u2"]}})", "");
  REQUIRE(send);
  CHECK(send->mentions_dropped);
  CHECK(send->body.find("atUserIds") == std::string::npos);
  CHECK(send->body.find(R"(@u2 done)") != std::string::npos);
}
