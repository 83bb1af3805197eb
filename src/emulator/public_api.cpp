// The part of DingTalk's HTTP API the Stream SDKs and the bridge call.
//
//   POST /v1.0/gateway/connections/open   {clientId, clientSecret, subscriptions, ua, localIp}
//        200 {"endpoint":"ws://HOST:PORT/connect","ticket":"..."}   (ticket: single use, 90 s)
//            (wss:// when the emulator runs with --tls-cert/--tls-key)
//        400 {"code":"InvalidParameter","message":...}   401 {"code":"InvalidAuthentication",...}
//   POST /v1.0/oauth2/accessToken          {appKey, appSecret}
//        200 {"accessToken":"...","expireIn":N} (the same token until it expires), 400, 401
//   POST /robot/sendBySession?session=S    any body: recorded, 200 {"errcode":0,"errmsg":"ok"}
#include "emulator/routes.hpp"

namespace dsb::emulator {

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
    gateway.record_reply(session, req.header("content-type"), req.body);
    return httpd::Response::json(200, R"({"errcode":0,"errmsg":"ok"})");
  });
}

}  // namespace dsb::emulator
