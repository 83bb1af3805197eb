// OpenAPI answers classified the way DingTalk writes them (openapi/answer.hpp).
#include <catch2/catch.hpp>

#include "openapi/answer.hpp"

using dsb::openapi::AnswerKind;
using dsb::openapi::classify_answer;

namespace {

AnswerKind kind(int status, const char* body, const char* error = "") {
  dsb::deliver::Response response;
  response.status = status;
  response.body = body;
  response.error = error;
  return classify_answer(response).kind;
}

std::string reason(int status, const char* body) {
  dsb::deliver::Response response;
  response.status = status;
  response.body = body;
  return classify_answer(response).reason;
}

}  // namespace

TEST_CASE("openapi answers: success", "[openapi]") {
  CHECK(kind(200, R"({"processQueryKey":"q1"})") == AnswerKind::ok);
  CHECK(kind(200, "") == AnswerKind::ok);
  CHECK(kind(200, R"({"errcode":0,"errmsg":"ok"})") == AnswerKind::ok);
  CHECK(reason(200, "{}").empty());
}

TEST_CASE("openapi answers: an invalid token, in each shape DingTalk uses", "[openapi]") {
  const char* v1 = R"({"requestid":"3A","code":"InvalidAuthentication","message":"不合法的access_token"})";
  CHECK(kind(400, v1) == AnswerKind::invalid_token);
  CHECK(kind(401, v1) == AnswerKind::invalid_token);
  CHECK(kind(401, "") == AnswerKind::invalid_token);
  CHECK(kind(200, R"({"errcode":40014,"errmsg":"不合法的access_token"})") == AnswerKind::invalid_token);
  CHECK(kind(200, R"({"errcode":"88"})") == AnswerKind::invalid_token);
  CHECK(reason(400, v1) == "HTTP 400 (InvalidAuthentication)");
}

TEST_CASE("openapi answers: rate limits", "[openapi]") {
  CHECK(kind(429, "") == AnswerKind::rate_limited);
  CHECK(kind(200, R"({"errcode":130101,"errmsg":"send too fast"})") == AnswerKind::rate_limited);
  CHECK(kind(400, R"({"code":"130101","message":"send too fast"})") == AnswerKind::rate_limited);
  CHECK(kind(403, R"({"code":"Forbidden.AccessDenied.QpsLimitForApi"})") == AnswerKind::rate_limited);
  CHECK(kind(503, R"({"code":"Throttling.Api"})") == AnswerKind::rate_limited);
  CHECK(reason(200, R"({"errcode":130101})") == "HTTP 200 errcode 130101");
}

TEST_CASE("openapi answers: everything else failed, with a reason free of the body", "[openapi]") {
  CHECK(kind(400, R"({"code":"InvalidParameter","message":"msgParam secret-ish"})") == AnswerKind::failed);
  CHECK(kind(500, "<html>") == AnswerKind::failed);
  CHECK(kind(200, R"({"errcode":300005})") == AnswerKind::failed);
  CHECK(kind(0, "", "timed out") == AnswerKind::failed);
  CHECK(reason(400, R"({"code":"InvalidParameter","message":"msgParam secret-ish"})") ==
        "HTTP 400 (InvalidParameter)");
  CHECK(reason(400, R"({"code":"has space and \n newline"})") == "HTTP 400");  // not quoted
}
