// The emulator's robot-message OpenAPIs and their controls: token check, body check, the
// rate-limit answers, revoked tokens, the refusing sessionWebhook sink.
#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include "emulator/gateway.hpp"
#include "emulator/routes.hpp"

using namespace dsb::emulator;
using dsb::httpd::Request;
using dsb::httpd::Response;
using dsb::httpd::Router;

namespace {

struct NoTransport : Transport {
  void send(const std::string&, const std::string&, bool, int) override {}
  void fault(const std::string&, Fault) override {}
};

struct Fixture {
  int64_t steady = 0;
  NoTransport transport;
  Gateway gateway{{"id", "secret", 0, 0},
                  {[this] { return steady; }, [] { return int64_t{1'700'000'000'000}; }},
                  transport};
  Router router;

  Fixture() {
    gateway.set_base_url("http://127.0.0.1:1234");
    add_public_routes(gateway, router);
    add_control_routes(gateway, router);
  }

  Response call(const std::string& method, const std::string& path, const std::string& body = "",
                const std::string& token = "") {
    Request r;
    r.method = method;
    r.path = path;
    r.body = body;
    if (!token.empty()) r.headers["x-acs-dingtalk-access-token"] = token;
    if (path == "/robot/sendBySession") r.args["session"] = "s1";
    return router.dispatch(r);
  }

  std::string token() {
    Response r = call("POST", "/v1.0/oauth2/accessToken", R"({"appKey":"id","appSecret":"secret"})");
    REQUIRE(r.status == 200);
    rapidjson::Document doc;
    doc.Parse(r.body.c_str());
    return doc["accessToken"].GetString();
  }
};

const char* kGroup =
    R"({"robotCode":"r","openConversationId":"cid","msgKey":"sampleText","msgParam":"{\"content\":\"x\"}"})";
const char* kOto =
    R"({"robotCode":"r","userIds":["u1"],"msgKey":"sampleText","msgParam":"{\"content\":\"x\"}"})";

}  // namespace

TEST_CASE("emulator robot messages: a valid token sends, anything else is InvalidAuthentication",
          "[emulator]") {
  Fixture f;
  const std::string token = f.token();
  Response sent = f.call("POST", "/v1.0/robot/groupMessages/send", kGroup, token);
  CHECK(sent.status == 200);
  CHECK(sent.body.find("processQueryKey") != std::string::npos);
  CHECK(f.call("POST", "/v1.0/robot/oToMessages/batchSend", kOto, token).status == 200);

  Response bad = f.call("POST", "/v1.0/robot/groupMessages/send", kGroup, "forged");
  CHECK(bad.status == 400);
  CHECK(bad.body.find(R"("code":"InvalidAuthentication")") != std::string::npos);
  CHECK(f.call("POST", "/v1.0/robot/groupMessages/send", kGroup).status == 400);

  CHECK(f.call("POST", "/emulator/tokens/revoke").body == R"({"revoked":1})");
  CHECK(f.call("POST", "/v1.0/robot/groupMessages/send", kGroup, token).status == 400);
  const std::string fresh = f.token();
  CHECK(fresh != token);
  CHECK(f.call("POST", "/v1.0/robot/groupMessages/send", kGroup, fresh).status == 200);
  CHECK(f.call("GET", "/emulator/tokens").body == R"({"fetches":2,"by_client":{"id":2},"down":false,"issued":2,"revoked":1})");

  f.steady += 7'200'001;  // expired tokens stop working too
  CHECK(f.call("POST", "/v1.0/robot/groupMessages/send", kGroup, fresh).status == 400);

  rapidjson::Document log;
  log.Parse(f.call("GET", "/emulator/robot-messages").body.c_str());
  REQUIRE(log.IsArray());
  REQUIRE(log.Size() == 7);
  CHECK(std::string(log[0]["api"].GetString()) == "groupMessages/send");
  CHECK(std::string(log[1]["api"].GetString()) == "oToMessages/batchSend");
  CHECK(std::string(log[2]["outcome"].GetString()) == "invalid_token");
  CHECK(std::string(log[0]["json"]["openConversationId"].GetString()) == "cid");
}

TEST_CASE("emulator robot messages: bodies are checked", "[emulator]") {
  Fixture f;
  const std::string token = f.token();
  auto status = [&](const char* api, const char* body) {
    return f.call("POST", std::string("/v1.0/robot/") + api, body, token).status;
  };
  CHECK(status("groupMessages/send", R"({"robotCode":"r","msgKey":"k","msgParam":"{}"})") == 400);
  CHECK(status("groupMessages/send",
               R"({"robotCode":"r","openConversationId":"c","msgKey":"k","msgParam":"not json"})") == 400);
  CHECK(status("oToMessages/batchSend", R"({"robotCode":"r","userIds":[],"msgKey":"k","msgParam":"{}"})") == 400);
  CHECK(status("oToMessages/batchSend", R"({"robotCode":"r","userIds":[1],"msgKey":"k","msgParam":"{}"})") == 400);
  CHECK(status("oToMessages/batchSend", "[") == 400);
}

TEST_CASE("emulator robot messages: the next N calls answer the rate limit", "[emulator]") {
  Fixture f;
  const std::string token = f.token();
  CHECK(f.call("POST", "/emulator/robot-messages/rate-limit", R"({"count":1})").status == 200);
  Response limited = f.call("POST", "/v1.0/robot/groupMessages/send", kGroup, token);
  CHECK(limited.status == 429);
  CHECK(f.call("POST", "/v1.0/robot/groupMessages/send", kGroup, token).status == 200);

  CHECK(f.call("POST", "/emulator/robot-messages/rate-limit", R"({"count":1,"form":"errcode"})")
            .status == 200);
  Response errcode = f.call("POST", "/v1.0/robot/oToMessages/batchSend", kOto, token);
  CHECK(errcode.status == 200);
  CHECK(errcode.body == R"({"errcode":130101,"errmsg":"send too fast"})");

  CHECK(f.call("POST", "/emulator/robot-messages/rate-limit", R"({"count":-1})").status == 400);
  CHECK(f.call("POST", "/emulator/robot-messages/rate-limit", R"({"count":1,"form":"x"})").status == 400);
}

TEST_CASE("emulator robot messages: the sessionWebhook sink can refuse", "[emulator]") {
  Fixture f;
  CHECK(f.call("POST", "/robot/sendBySession", "{}").body == R"({"errcode":0,"errmsg":"ok"})");
  CHECK(f.call("POST", "/emulator/session-webhook", R"({"errcode":300001})").status == 200);
  Response refused = f.call("POST", "/robot/sendBySession", "{}");
  CHECK(refused.body.find(R"("errcode":300001)") != std::string::npos);
  CHECK(f.call("POST", "/emulator/session-webhook", R"({"errcode":"x"})").status == 400);
}
