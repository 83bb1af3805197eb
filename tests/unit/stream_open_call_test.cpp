// The open call: request body, response interpretation, URL building.
#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include "stream/open_call.hpp"

using namespace dsb::stream;

namespace {

rapidjson::Document parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  return doc;
}

}  // namespace

TEST_CASE("open request body carries every field", "[stream]") {
  OpenRequest r;
  r.client_id = "dingid";
  r.client_secret = "s3cr\"et";
  r.subscriptions = {{"CALLBACK", "/v1.0/im/bot/messages/get"}, {"EVENT", "*"}};
  r.ua = user_agent();
  r.local_ip = "10.0.0.2,10.0.0.3";
  auto doc = parse(open_request_body(r));
  CHECK(std::string(doc["clientId"].GetString()) == "dingid");
  CHECK(std::string(doc["clientSecret"].GetString()) == "s3cr\"et");
  CHECK(std::string(doc["ua"].GetString()) == std::string("dingtalk-stream-bridge/") + BRIDGE_VERSION);
  CHECK(std::string(doc["localIp"].GetString()) == "10.0.0.2,10.0.0.3");
  const auto& subs = doc["subscriptions"];
  REQUIRE(subs.IsArray());
  REQUIRE(subs.Size() == 2);
  CHECK(std::string(subs[0]["type"].GetString()) == "CALLBACK");
  CHECK(std::string(subs[0]["topic"].GetString()) == "/v1.0/im/bot/messages/get");
  CHECK(std::string(subs[1]["type"].GetString()) == "EVENT");
  CHECK(std::string(subs[1]["topic"].GetString()) == "*");
  CHECK(doc.MemberCount() == 5);
}

TEST_CASE("open request body uses the config's subscriptions", "[stream]") {
  dsb::config::Config config;
  config.apps.emplace_back();
  dsb::config::Route robot;
  robot.name = "robot";
  robot.topic = "/v1.0/im/bot/messages/get";
  dsb::config::Route events;
  events.name = "events";
  events.event = "*";
  config.apps[0].routes = {robot, events};
  OpenRequest r;
  r.client_id = "id";
  r.client_secret = "secret";
  r.subscriptions = config.apps[0].subscriptions();
  r.ua = "ua/1";
  auto doc = parse(open_request_body(r));
  REQUIRE(doc["subscriptions"].Size() == 2);
  CHECK_FALSE(doc.HasMember("localIp"));  // omitted, not sent empty
  CHECK(doc["subscriptions"].Size() == config.apps[0].subscriptions().size());
}

TEST_CASE("open url joins the api base without double slashes", "[stream]") {
  CHECK(open_url("https://api.dingtalk.com") == "https://api.dingtalk.com/v1.0/gateway/connections/open");
  CHECK(open_url("http://127.0.0.1:9/") == "http://127.0.0.1:9/v1.0/gateway/connections/open");
}

TEST_CASE("a good open response gives endpoint and ticket", "[stream]") {
  auto r = parse_open_response(200, R"({"endpoint":"wss://gw.example/connect","ticket":"t-1"})");
  CHECK(r.outcome == OpenOutcome::ok);
  CHECK(r.endpoint == "wss://gw.example/connect");
  CHECK(r.ticket == "t-1");
  CHECK(r.http_status == 200);
}

TEST_CASE("an open response without endpoint or ticket is a failure", "[stream]") {
  auto empty_endpoint = parse_open_response(200, R"({"endpoint":"","ticket":"t"})");
  CHECK(empty_endpoint.outcome == OpenOutcome::failed);
  CHECK(empty_endpoint.error.find("endpoint") != std::string::npos);
  auto no_ticket = parse_open_response(200, R"({"endpoint":"wss://x/connect"})");
  CHECK(no_ticket.outcome == OpenOutcome::failed);
  CHECK(no_ticket.error.find("ticket") != std::string::npos);
  auto wrong_type = parse_open_response(200, R"({"endpoint":"wss://x/connect","ticket":5})");
  CHECK(wrong_type.outcome == OpenOutcome::failed);
}

TEST_CASE("a non-JSON open response is a failure with an excerpt", "[stream]") {
  auto xml = parse_open_response(200, "<xml>nope</xml>");
  CHECK(xml.outcome == OpenOutcome::failed);
  CHECK(xml.error.find("<xml>nope</xml>") != std::string::npos);
  auto server = parse_open_response(502, "Bad Gateway");
  CHECK(server.outcome == OpenOutcome::failed);
  CHECK(server.error == "HTTP 502: Bad Gateway");
}

TEST_CASE("401 and 403 are rejected credentials with the body's message", "[stream]") {
  auto r = parse_open_response(401, R"({"code":"InvalidAuthentication","message":"bad client"})");
  CHECK(r.outcome == OpenOutcome::rejected);
  CHECK(r.http_status == 401);
  CHECK(r.error == "HTTP 401: InvalidAuthentication: bad client");
  CHECK(parse_open_response(403, "").outcome == OpenOutcome::rejected);
  CHECK(parse_open_response(403, "").error == "HTTP 403");
  CHECK(parse_open_response(400, "{}").outcome == OpenOutcome::failed);
}
