// What an OpenAPI answer means for the caller, read the way DingTalk writes them. Two
// families of error bodies reach us:
//   api.dingtalk.com (v1.0):  HTTP 4xx {"code":"InvalidAuthentication","message":"不合法的access_token",
//                             "requestid":"..."}: the token is invalid (seen with HTTP 400 and 401);
//                             throttling as HTTP 429 or a code "Forbidden.AccessDenied.QpsLimit…"
//                             / "Throttling…".
//   oapi.dingtalk.com (legacy) and robot sends: HTTP 200 {"errcode":N,"errmsg":"..."}:
//                             40014 / 88 invalid token, 130101 "send too fast".
// Pure: the caller acts on the kind (invalidate and resend once, retry later, give up).
#pragma once

#include <string>

#include "deliver/http_client.hpp"

namespace dsb::openapi {

enum class AnswerKind {
  ok,             // 2xx and no error code in the body
  invalid_token,  // fetch a new token and send once more
  rate_limited,   // send again later
  failed,         // anything else: the request itself, or DingTalk, is wrong
};

struct Answer {
  AnswerKind kind = AnswerKind::failed;
  std::string reason;  // "" for ok; never quotes the body beyond its error code
};

Answer classify_answer(const deliver::Response& response);

// "HTTP 400 (InvalidAuthentication)", "errcode 130101", "no answer: <transport error>":
// loggable, free of tokens and secrets.
std::string describe_failure(const deliver::Response& response);

}  // namespace dsb::openapi
