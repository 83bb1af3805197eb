// The part of DingTalk's HTTP API the Stream SDKs and the bridge call.
//
//   POST /v1.0/gateway/connections/open   {clientId, clientSecret, subscriptions, ua, localIp}
//        200 {"endpoint":"ws://HOST:PORT/connect","ticket":"..."}   (ticket: single use, 90 s)
//            (wss:// when the emulator runs with --tls-cert/--tls-key)
//        400 {"code":"InvalidParameter","message":...}   401 {"code":"InvalidAuthentication",...}
//   POST /v1.0/oauth2/accessToken          {appKey, appSecret}
//        200 {"accessToken":"...","expireIn":N} (the same token until it expires or is
//        revoked by POST /emulator/tokens/revoke), 400, 401
//   POST /robot/sendBySession?session=S    any body: recorded, 200 {"errcode":0,"errmsg":"ok"}
//        (another errcode after POST /emulator/session-webhook)
//   POST /v1.0/robot/groupMessages/send    header x-acs-dingtalk-access-token,
//        {robotCode, openConversationId, msgKey, msgParam (a JSON object as a string)}
//   POST /v1.0/robot/oToMessages/batchSend header x-acs-dingtalk-access-token,
//        {robotCode, userIds: [1..20], msgKey, msgParam}
//        200 {"processQueryKey":"..."} (batchSend adds invalidStaffIdList and
//        flowControlledStaffIdList); 400 {"code":"InvalidAuthentication","message":
//        "不合法的access_token","requestid"} for a token not issued here or revoked;
//        400 {"code":"InvalidParameter"} for a bad body; the rate limit set by
//        POST /emulator/robot-messages/rate-limit. Every call is recorded
//        (GET /emulator/robot-messages).
//   PUT  /v1.0/card/instances              header x-acs-dingtalk-access-token; any JSON body:
//        200 {"success":true,"result":true}; 400 InvalidAuthentication as above
//   POST /oapi/topapi/v2/user/get?access_token=T   {"userid":"..."}: 200 {"errcode":0,
//        "errmsg":"ok","result":{"userid","name"}}; 200 {"errcode":40014,...} for a bad
//        token (the legacy API answers errors with HTTP 200). The emulator serves the legacy
//        API under /oapi of its own port: point dingtalk.oapi_base at http://HOST:PORT/oapi.
//   GET|POST|PUT|PATCH|DELETE /v1.0/emulator/echo and /oapi/emulator/echo   (token checked
//        like the others) answer what they got: {"method","query","headers","body"},
//        status from ?status=N (default 200), header x-emulator-echo: 1.
//   Every call of these three is recorded (GET /emulator/openapi-calls).
#include "emulator/routes.hpp"

#include <rapidjson/document.h>

#include <cstdlib>

#include "common/json.hpp"

namespace dsb::emulator {
namespace {

const char* const kInvalidToken = "{\"code\":\"InvalidAuthentication\",\"message\":\"不合法的access_token\"}";
const char* const kInvalidTokenOapi = "{\"errcode\":40014,\"errmsg\":\"不合法的access_token\"}";

// The record of `req` with the token's owner looked up; `oapi`: the token is in the query.
OpenApiCallRecord record_of(const Gateway& gateway, const httpd::Request& req, bool oapi) {
  OpenApiCallRecord record;
  record.method = req.method;
  record.path = req.path;
  record.query = req.query;
  record.body = req.body;
  for (const auto& [name, value] : req.headers) record.headers.emplace_back(name, value);
  const std::string& token = oapi ? req.arg("access_token") : req.header("x-acs-dingtalk-access-token");
  record.token_sent = token.empty() ? "" : (oapi ? "query" : "header");
  record.client_id = gateway.token_owner(token);
  return record;
}

httpd::Response echo(Gateway& gateway, const httpd::Request& req, bool oapi) {
  OpenApiCallRecord record = record_of(gateway, req, oapi);
  httpd::Response response;
  if (record.client_id.empty()) {
    response = httpd::Response::json(oapi ? 200 : 400, oapi ? kInvalidTokenOapi : kInvalidToken);
  } else {
    std::string headers = "{";
    for (const auto& [name, value] : req.headers) {
      if (headers.size() > 1) headers += ',';
      headers += json::quote(name) + ":" + json::quote(value);
    }
    headers += "}";
    const int status = req.arg("status").empty() ? 200 : std::atoi(req.arg("status").c_str());
    response = httpd::Response::json(status >= 200 && status <= 599 ? status : 200,
                                     "{\"method\":" + json::quote(req.method) +
                                         ",\"query\":" + json::quote(req.query) +
                                         ",\"headers\":" + headers +
                                         ",\"body\":" + json::quote(req.body) + "}");
    response.headers.emplace_back("x-emulator-echo", "1");
  }
  record.status = response.status;
  gateway.record_openapi_call(std::move(record));
  return response;
}

}  // namespace

void add_public_routes(Gateway& gateway, httpd::Router& router) {
  router.add("POST", "/v1.0/gateway/connections/open", [&gateway](const httpd::Request& req) {
    auto r = gateway.open_connection(req.body, req.header("accept"), req.header("content-type"));
    return httpd::Response::json(r.status, std::move(r.body));
  });
  router.add("POST", "/v1.0/oauth2/accessToken", [&gateway](const httpd::Request& req) {
    auto r = gateway.access_token(req.body);
    return httpd::Response::json(r.status, std::move(r.body));
  });
  router.add("POST", "/robot/sendBySession", [&gateway](const httpd::Request& req) {
    const std::string& session = req.arg("session");
    if (session.empty())
      return httpd::Response::json(400, R"({"errcode":400002,"errmsg":"session missing"})");
    auto r = gateway.session_reply(session, req.header("content-type"), req.body);
    return httpd::Response::json(r.status, std::move(r.body));
  });
  for (const char* api : {"groupMessages/send", "oToMessages/batchSend"}) {
    router.add("POST", std::string("/v1.0/robot/") + api,
               [&gateway, api = std::string(api)](const httpd::Request& req) {
                 auto r = gateway.robot_message(api, req.header("x-acs-dingtalk-access-token"),
                                                req.body);
                 return httpd::Response::json(r.status, std::move(r.body));
               });
  }
  router.add("PUT", "/v1.0/card/instances", [&gateway](const httpd::Request& req) {
    OpenApiCallRecord record = record_of(gateway, req, false);
    httpd::Response response = record.client_id.empty()
                                   ? httpd::Response::json(400, kInvalidToken)
                                   : httpd::Response::json(200, R"({"success":true,"result":true})");
    record.status = response.status;
    gateway.record_openapi_call(std::move(record));
    return response;
  });
  router.add("POST", "/oapi/topapi/v2/user/get", [&gateway](const httpd::Request& req) {
    OpenApiCallRecord record = record_of(gateway, req, true);
    httpd::Response response;
    if (record.client_id.empty()) {
      response = httpd::Response::json(200, kInvalidTokenOapi);
    } else {
      rapidjson::Document doc;
      auto userid = json::parse(doc, req.body) && doc.IsObject() ? json::string_member(doc, "userid")
                                                                 : std::nullopt;
      response = userid ? httpd::Response::json(200, "{\"errcode\":0,\"errmsg\":\"ok\",\"result\":{\"userid\":" +
                                                         json::quote(*userid) +
                                                         ",\"name\":\"Emulated User\"}}")
                        : httpd::Response::json(200, R"({"errcode":40035,"errmsg":"userid missing"})");
    }
    record.status = response.status;
    gateway.record_openapi_call(std::move(record));
    return response;
  });
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    router.add(method, "/v1.0/emulator/echo",
               [&gateway](const httpd::Request& req) { return echo(gateway, req, false); });
    router.add(method, "/oapi/emulator/echo",
               [&gateway](const httpd::Request& req) { return echo(gateway, req, true); });
  }
}

}  // namespace dsb::emulator
