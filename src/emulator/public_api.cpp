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
}

}  // namespace dsb::emulator
