// The gateway's rules and its control API, through the router, with a fake transport.
#include "emulator/gateway.hpp"
#include "emulator/routes.hpp"

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

using namespace dsb::emulator;
using dsb::httpd::Request;
using dsb::httpd::Response;
using dsb::httpd::Router;

namespace {

struct FakeTransport : Transport {
  struct Sent {
    std::string connection, payload;
    bool binary;
    int fragments;
  };
  std::vector<Sent> sent;
  std::vector<std::pair<std::string, Fault>> faults;
  void send(const std::string& c, const std::string& p, bool b, int f) override {
    sent.push_back({c, p, b, f});
  }
  void fault(const std::string& c, Fault f) override { faults.emplace_back(c, f); }
};

struct Fixture {
  int64_t steady = 0;
  int64_t wall = 1'700'000'000'000;
  FakeTransport transport;
  Gateway gateway{{"id", "secret", 0, 0},
                  {[this] { return steady; }, [this] { return wall; }},
                  transport};
  Router router;

  Fixture() {
    gateway.set_base_url("http://127.0.0.1:1234");
    add_public_routes(gateway, router);
    add_control_routes(gateway, router);
  }

  Response call(const std::string& method, const std::string& path, const std::string& body = "",
                std::map<std::string, std::string> args = {}) {
    Request r;
    r.method = method;
    r.path = path;
    r.body = body;
    r.args = std::move(args);
    r.headers["accept"] = "application/json";
    return router.dispatch(r);
  }

  // Opens a connection the way a client does: open call, then the handshake.
  std::string connect(const std::string& subscriptions = R"([{"type":"EVENT","topic":"*"}])") {
    Response r = call("POST", "/v1.0/gateway/connections/open",
                      R"({"clientId":"id","clientSecret":"secret","ua":"t/1","subscriptions":)" +
                          subscriptions + "}");
    REQUIRE(r.status == 200);
    rapidjson::Document doc;
    doc.Parse(r.body.c_str());
    auto info = gateway.spend_ticket(doc["ticket"].GetString());
    REQUIRE(info);
    return gateway.connection_opened(info.value());
  }
};

rapidjson::Document json_of(const Response& r) {
  rapidjson::Document doc;
  doc.Parse(r.body.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  return doc;
}

std::string ack_text(const std::string& message_id, const std::string& status) {
  return R"({"code":200,"headers":{"contentType":"application/json","messageId":")" + message_id +
         R"("},"message":"OK","data":"{\"status\":\")" + status + R"(\"}"})";
}

}  // namespace

TEST_CASE("open call: credentials, body checks and the recorded call", "[emulator]") {
  Fixture f;
  Response good = f.call("POST", "/v1.0/gateway/connections/open",
                         R"({"clientId":"id","clientSecret":"secret","subscriptions":[]})");
  CHECK(good.status == 200);
  auto doc = json_of(good);
  CHECK(std::string(doc["endpoint"].GetString()) == "ws://127.0.0.1:1234/connect");
  CHECK(std::string(doc["ticket"].GetString()).size() == 32);

  Response bad = f.call("POST", "/v1.0/gateway/connections/open",
                        R"({"clientId":"id","clientSecret":"nope","subscriptions":[]})");
  CHECK(bad.status == 401);
  CHECK(std::string(json_of(bad)["code"].GetString()) == "InvalidAuthentication");
  CHECK(f.call("POST", "/v1.0/gateway/connections/open", "{").status == 400);
  CHECK(f.call("POST", "/v1.0/gateway/connections/open",
               R"({"clientId":"id","clientSecret":"secret","subscriptions":[{"type":"X","topic":"*"}]})")
            .status == 400);

  auto opens = json_of(f.call("GET", "/emulator/opens"));
  REQUIRE(opens.Size() == 4);
  CHECK(opens[0]["status"].GetInt() == 200);
  CHECK(std::string(opens[0]["accept"].GetString()) == "application/json");
  CHECK(opens[1]["status"].GetInt() == 401);
  CHECK_FALSE(opens[1].HasMember("clientSecret"));
}

TEST_CASE("frames go only to subscribed connections, 409 when none", "[emulator]") {
  Fixture f;
  CHECK(f.call("POST", "/emulator/frames", R"({"type":"EVENT"})").status == 409);
  std::string robot_only = f.connect(R"([{"type":"CALLBACK","topic":"/v1.0/im/bot/messages/get"}])");
  Response none = f.call("POST", "/emulator/frames", R"({"type":"EVENT"})");
  CHECK(none.status == 409);
  CHECK(f.call("POST", "/emulator/frames",
               R"({"type":"EVENT","connection":")" + robot_only + R"("})")
            .status == 409);

  std::string events = f.connect();
  Response ok = f.call("POST", "/emulator/frames",
                       R"({"type":"EVENT","eventType":"chat_update_title","data":{"a":1}})");
  REQUIRE(ok.status == 200);
  auto doc = json_of(ok);
  CHECK(std::string(doc["connection"].GetString()) == events);
  REQUIRE(f.transport.sent.size() == 1);
  CHECK(f.transport.sent[0].connection == events);
  CHECK(f.transport.sent[0].payload.find(R"("data":"{\"a\":1}")") != std::string::npos);
}

TEST_CASE("robot callbacks get a sessionWebhook back to the emulator", "[emulator]") {
  Fixture f;
  f.connect(R"([{"type":"CALLBACK","topic":"/v1.0/im/bot/messages/get"}])");
  Response r = f.call("POST", "/emulator/frames",
                      R"({"type":"CALLBACK","topic":"/v1.0/im/bot/messages/get","data":{"msgId":"m"}})");
  REQUIRE(r.status == 200);
  auto frames = json_of(f.call("GET", "/emulator/frames"));
  rapidjson::Document data;
  data.Parse(frames[0]["data"].GetString());
  std::string hook = data["sessionWebhook"].GetString();
  CHECK(hook.rfind("http://127.0.0.1:1234/robot/sendBySession?session=", 0) == 0);
  CHECK(data["sessionWebhookExpiredTime"].GetInt64() == f.wall + 90 * 60 * 1000);

  Response reply = f.call("POST", "/robot/sendBySession", R"({"msgtype":"text"})",
                          {{"session", "abc"}});
  CHECK(reply.status == 200);
  auto replies = json_of(f.call("GET", "/emulator/replies"));
  REQUIRE(replies.Size() == 1);
  CHECK(std::string(replies[0]["session"].GetString()) == "abc");
  CHECK(std::string(replies[0]["json"]["msgtype"].GetString()) == "text");
}

TEST_CASE("ACKs are recorded and drive redelivery", "[emulator]") {
  Fixture f;
  std::string c = f.connect();
  auto first = json_of(f.call("POST", "/emulator/frames", R"({"type":"EVENT"})"));
  auto second = json_of(f.call("POST", "/emulator/frames", R"({"type":"EVENT"})"));
  auto third = json_of(f.call("POST", "/emulator/frames", R"({"type":"EVENT"})"));
  f.gateway.message_received(c, ack_text(first["messageId"].GetString(), "SUCCESS"), false);
  f.gateway.message_received(c, ack_text(second["messageId"].GetString(), "LATER"), false);
  f.gateway.message_received(c, "garbage", false);

  auto acks = json_of(f.call("GET", "/emulator/acks"));
  REQUIRE(acks.Size() == 3);
  CHECK(std::string(acks[0]["status"].GetString()) == "SUCCESS");
  CHECK(std::string(acks[2]["invalid"].GetString()) == "not JSON");

  f.transport.sent.clear();
  auto redelivered = json_of(f.call("POST", "/emulator/redeliver", "{}"));
  CHECK(redelivered["redelivered"].GetInt() == 2);  // the LATER one and the unACKed one
  REQUIRE(f.transport.sent.size() == 2);
  CHECK(f.transport.sent[0].payload.find(second["messageId"].GetString()) != std::string::npos);
  CHECK(f.transport.sent[1].payload.find(third["messageId"].GetString()) != std::string::npos);

  auto frames = json_of(f.call("GET", "/emulator/frames"));
  CHECK(frames[0]["ack"]["code"].GetInt() == 200);
  CHECK(frames[1]["ack"].IsNull());
  CHECK(frames[1]["deliveries"].GetInt() == 2);

  CHECK(f.call("POST", "/emulator/reset").status == 200);
  CHECK(json_of(f.call("GET", "/emulator/acks")).Size() == 0);
  CHECK(json_of(f.call("GET", "/emulator/connections")).Size() == 1);
}

TEST_CASE("ACK shape violations are counted, listed and kept across reset", "[emulator]") {
  Fixture f;
  std::string c = f.connect();
  auto sent = json_of(f.call("POST", "/emulator/frames", R"({"type":"EVENT"})"));
  const std::string id = sent["messageId"].GetString();
  f.gateway.message_received(c, ack_text(id, "SUCCESS"), false);
  CHECK(json_of(f.call("GET", "/emulator/ack-violations"))["count"].GetInt() == 0);

  // Readable enough for /emulator/acks, but not what an SDK writes.
  f.gateway.message_received(
      c, R"({"code":200,"headers":{"messageId":")" + id + R"("},"message":"OK"})", false);
  f.gateway.message_received(c, "\x01\x02", true);
  CHECK(f.call("POST", "/emulator/reset").status == 200);

  auto report = json_of(f.call("GET", "/emulator/ack-violations"));
  CHECK(report["count"].GetInt() == 2);
  REQUIRE(report["violations"].Size() == 2);
  const auto& first = report["violations"][0];
  CHECK(std::string(first["messageId"].GetString()) == id);
  CHECK(std::string(first["connection"].GetString()) == c);
  REQUIRE(first["problems"].Size() == 2);
  CHECK(std::string(first["problems"][0].GetString()) ==
        "headers.contentType is not \"application/json\"");
  CHECK(std::string(first["problems"][1].GetString()) == "data is missing on a code 200 ACK");
  CHECK(std::string(report["violations"][1]["problems"][0].GetString()) == "binary frame");
}

TEST_CASE("disconnect stops frames and closes the connection 10 s later", "[emulator]") {
  Fixture f;
  std::string c = f.connect();
  auto d = json_of(f.call("POST", "/emulator/system/disconnect", R"({"reason":"bye"})"));
  CHECK(std::string(d["connection"].GetString()) == c);
  REQUIRE(f.transport.sent.size() == 1);
  CHECK(f.transport.sent[0].payload.find(R"("topic":"disconnect")") != std::string::npos);
  CHECK(f.call("POST", "/emulator/frames", R"({"type":"EVENT"})").status == 409);

  f.steady += 9'999;
  f.gateway.tick();
  CHECK(f.transport.faults.empty());
  f.steady += 1;
  f.gateway.tick();
  REQUIRE(f.transport.faults.size() == 1);
  CHECK(f.transport.faults[0].second == Fault::close);
  f.gateway.connection_closed(c, "closed by client");
  auto conns = json_of(f.call("GET", "/emulator/connections"));
  CHECK(std::string(conns[0]["state"].GetString()) == "closed");
  CHECK(std::string(conns[0]["closeReason"].GetString()).find("after disconnect") !=
        std::string::npos);
}

TEST_CASE("ping, raw and faults reach the transport", "[emulator]") {
  Fixture f;
  std::string c = f.connect();
  auto ping = json_of(f.call("POST", "/emulator/system/ping", "{}"));
  CHECK(f.transport.sent.back().payload.find(ping["opaque"].GetString()) != std::string::npos);

  CHECK(f.call("POST", "/emulator/raw", R"({"text":"x","fragments":0})").status == 400);
  CHECK(f.call("POST", "/emulator/raw", R"({"text":"abc","binary":true,"fragments":3})").status ==
        200);
  CHECK(f.transport.sent.back().binary);
  CHECK(f.transport.sent.back().fragments == 3);

  CHECK(f.call("POST", "/emulator/faults", R"({"action":"explode"})").status == 400);
  CHECK(f.call("POST", "/emulator/faults", R"({"action":"silence"})").status == 200);
  CHECK(f.call("POST", "/emulator/faults", R"({"action":"drop","connection":")" + c + "\"}")
            .status == 200);
  REQUIRE(f.transport.faults.size() == 2);
  CHECK(f.transport.faults[0].second == Fault::silence);
  CHECK(f.transport.faults[1].second == Fault::drop);
}

TEST_CASE("access tokens are stable while valid", "[emulator]") {
  Fixture f;
  Response a = f.call("POST", "/v1.0/oauth2/accessToken", R"({"appKey":"id","appSecret":"secret"})");
  Response b = f.call("POST", "/v1.0/oauth2/accessToken", R"({"appKey":"id","appSecret":"secret"})");
  REQUIRE(a.status == 200);
  CHECK(std::string(json_of(a)["accessToken"].GetString()) ==
        std::string(json_of(b)["accessToken"].GetString()));
  CHECK(json_of(a)["expireIn"].GetInt() == 7200);
  CHECK(f.call("POST", "/v1.0/oauth2/accessToken", R"({"appKey":"id","appSecret":"x"})").status ==
        401);
}

TEST_CASE("periodic pings go to every open connection", "[emulator]") {
  int64_t steady = 0;
  FakeTransport transport;
  Gateway gateway({"id", "secret", 5, 0}, {[&] { return steady; }, [] { return int64_t{1}; }},
                  transport);
  gateway.connection_opened({});
  gateway.connection_opened({});
  gateway.tick();
  CHECK(transport.sent.empty());
  steady = 5000;
  gateway.tick();
  REQUIRE(transport.sent.size() == 2);
  CHECK(transport.sent[0].payload.find(R"("topic":"ping")") != std::string::npos);
}
