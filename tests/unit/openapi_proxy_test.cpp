// The local OpenAPI endpoint (product.md section 13): request and answer rewriting as pure
// functions, then the proxy's way with fake HTTP: 403/404/413, token injection, one
// refetch on an invalid-token answer, 502 without a token, no token in any log line.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "common/log.hpp"
#include "openapi/proxy.hpp"
#include "openapi/proxy_request.hpp"
#include "support/fake_ports.hpp"

using dsb::Result;
using dsb::openapi::AccessTokenCache;
using dsb::openapi::AppCredentials;
using dsb::openapi::OpenApiProxy;
using dsb::openapi::ProxySettings;
using dsb::openapi::ProxyTarget;
using dsb::openapi::Upstream;
using dsb::openapi::drop_query_parameter;
using dsb::openapi::rewrite_answer;
using dsb::openapi::rewrite_request;
using dsb::openapi::upstream_of;
using dsb::testing::ManualTimers;
using dsb::testing::ManualWebhooks;

namespace {

ProxyTarget target() {
  ProxyTarget t;
  t.api_base = "https://api.example";
  t.oapi_base = "https://oapi.example/base";
  t.transport.proxy = "http://proxy:3128";
  return t;
}

std::string header(const dsb::deliver::Request& r, const std::string& name) {
  std::string found;
  int n = 0;
  for (const auto& [k, v] : r.headers) {
    if (k == name) {
      found = v;
      ++n;
    }
  }
  CHECK(n <= 1);
  return found;
}

}  // namespace

TEST_CASE("openapi rewrite: the prefixes", "[openapi][proxy]") {
  CHECK(upstream_of("/v1.0/robot/oToMessages/batchSend") == Upstream::v1);
  CHECK(upstream_of("/oapi/topapi/v2/user/get") == Upstream::oapi);
  CHECK(upstream_of("/oapi") == Upstream::oapi);
  CHECK(upstream_of("/oapix/a") == Upstream::none);
  CHECK(upstream_of("/v1.0") == Upstream::none);
  CHECK(upstream_of("/v2.0/x") == Upstream::none);
  CHECK(upstream_of("/") == Upstream::none);
}

TEST_CASE("openapi rewrite: v1.0 gets the token header, the caller's is replaced", "[openapi][proxy]") {
  dsb::httpd::Request in;
  in.method = "PUT";
  in.path = "/v1.0/card/instances";
  in.query = "a=1&access_token=theirs&b=x%20y";
  in.body = "{\"k\":1}";
  in.headers = {{"host", "127.0.0.1:9181"},
                {"content-type", "application/json"},
                {"content-length", "7"},
                {"connection", "keep-alive, x-private"},
                {"x-private", "hop"},
                {"keep-alive", "timeout=5"},
                {"transfer-encoding", "chunked"},
                {"upgrade", "h2c"},
                {"expect", "100-continue"},
                {"accept-language", "zh-CN"},
                {"x-acs-dingtalk-access-token", "THEIR-TOKEN"}};
  const dsb::deliver::Request out = rewrite_request(in, target(), "APP-TOKEN");
  CHECK(out.method == "PUT");
  CHECK(out.url == "https://api.example/v1.0/card/instances?a=1&b=x%20y");
  CHECK(out.body == "{\"k\":1}");
  CHECK(out.transport.proxy == "http://proxy:3128");
  CHECK(out.want_response_headers);
  CHECK(header(out, "x-acs-dingtalk-access-token") == "APP-TOKEN");
  CHECK(header(out, "content-type") == "application/json");
  CHECK(header(out, "accept-language") == "zh-CN");
  for (const char* dropped : {"host", "content-length", "connection", "x-private", "keep-alive",
                              "transfer-encoding", "upgrade", "expect"}) {
    INFO(dropped);
    CHECK(header(out, dropped).empty());
  }
  CHECK(out.headers.size() == 3);
}

TEST_CASE("openapi rewrite: /oapi goes to oapi_base with access_token in the query", "[openapi][proxy]") {
  dsb::httpd::Request in;
  in.method = "POST";
  in.path = "/oapi/topapi/v2/user/get";
  in.query = "access_token=theirs&lang=zh_CN";
  in.headers = {{"x-acs-dingtalk-access-token", "THEIR-TOKEN"}};
  const dsb::deliver::Request out = rewrite_request(in, target(), "APP-TOKEN");
  CHECK(out.url == "https://oapi.example/base/topapi/v2/user/get?lang=zh_CN&access_token=APP-TOKEN");
  CHECK(out.headers.empty());

  in.query = "";
  CHECK(rewrite_request(in, target(), "T").url ==
        "https://oapi.example/base/topapi/v2/user/get?access_token=T");
}

TEST_CASE("openapi rewrite: dropping a query parameter keeps the rest in order", "[openapi][proxy]") {
  CHECK(drop_query_parameter("", "access_token") == "");
  CHECK(drop_query_parameter("access_token", "access_token") == "");
  CHECK(drop_query_parameter("a=1&access_token=x&access_token=y&b", "access_token") == "a=1&b");
  CHECK(drop_query_parameter("access_tokens=1&&c=3", "access_token") == "access_tokens=1&c=3");
}

TEST_CASE("openapi rewrite: the answer comes back without hop-by-hop headers", "[openapi][proxy]") {
  dsb::deliver::Response answer;
  answer.status = 418;
  answer.body = "teapot";
  answer.headers = {{"Content-Type", "text/plain"}, {"Content-Length", "6"},
                    {"Connection", "keep-alive"},   {"Transfer-Encoding", "chunked"},
                    {"x-acs-request-id", "R1"},     {"Set-Cookie", "a=b"}};
  const dsb::httpd::Response out = rewrite_answer(answer);
  CHECK(out.status == 418);
  CHECK(out.body == "teapot");
  CHECK(out.content_type == "text/plain");
  CHECK(out.headers == std::vector<std::pair<std::string, std::string>>{
                           {"x-acs-request-id", "R1"}, {"Set-Cookie", "a=b"}});
  answer.headers.clear();
  CHECK(rewrite_answer(answer).content_type.empty());
}

namespace {

std::vector<std::string> g_lines;
void capture(std::string_view line) { g_lines.emplace_back(line); }

const AppCredentials kApp{"https://api.example", "app-key", "s3cret-VALUE", {}};

std::string token_body(const std::string& token) {
  return R"({"accessToken":")" + token + R"(","expireIn":7200})";
}

struct Fixture {
  explicit Fixture(std::vector<std::string> allow = {}) {
    g_lines.clear();
    dsb::log::set_sink(&capture);
    dsb::log::configure(dsb::log::Level::trace, dsb::log::Format::text);
    tokens.set_app(kApp);
    ProxySettings settings;
    settings.app = "hr";
    settings.target = target();
    settings.allow = std::move(allow);
    proxy = std::make_unique<OpenApiProxy>(settings, tokens, http, timers);
  }
  ~Fixture() {
    dsb::log::set_sink(nullptr);
    dsb::log::configure(dsb::log::Level::info, dsb::log::Format::text);
  }
  void request(const std::string& method, const std::string& path) {
    dsb::httpd::Request r;
    r.method = method;
    r.path = path;
    proxy->handle(std::move(r), [this](dsb::httpd::Response response) { answers.push_back(response); });
  }
  bool logs_contain(const std::string& text) const {
    for (const auto& line : g_lines) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }

  ManualTimers timers;
  ManualWebhooks http;
  AccessTokenCache tokens{http, timers};
  std::unique_ptr<OpenApiProxy> proxy;
  std::vector<dsb::httpd::Response> answers;
};

}  // namespace

TEST_CASE("openapi proxy: refusals need no token", "[openapi][proxy]") {
  Fixture f({"/v1.0/robot/*"});
  f.request("GET", "/v2.0/x");
  f.request("POST", "/v1.0/card/instances");
  dsb::httpd::Request big;
  big.method = "POST";
  big.path = "/v1.0/robot/x";
  big.body_too_large = true;
  f.proxy->handle(big, [&f](dsb::httpd::Response r) { f.answers.push_back(r); });
  REQUIRE(f.answers.size() == 3);
  CHECK(f.answers[0].status == 404);
  CHECK(f.answers[1].status == 403);
  CHECK(f.answers[1].body.find("\"code\":\"Forbidden\"") != std::string::npos);
  CHECK(f.answers[2].status == 413);
  CHECK(f.http.calls.empty());
}

TEST_CASE("openapi proxy: concurrent requests share one token fetch", "[openapi][proxy]") {
  Fixture f;
  for (int i = 0; i < 100; ++i) f.request("POST", "/v1.0/robot/oToMessages/batchSend");
  REQUIRE(f.http.calls.size() == 1);  // the token fetch only
  f.http.answer(0, 200, token_body("TOKEN-ONE"));
  REQUIRE(f.http.calls.size() == 101);
  for (size_t i = 1; i < f.http.calls.size(); ++i) {
    CHECK(f.http.calls[i].header("x-acs-dingtalk-access-token") == "TOKEN-ONE");
    f.http.answer(i, 200, "{\"ok\":true}");
  }
  CHECK(f.answers.size() == 100);
  CHECK(f.tokens.fetches() == 1);
  CHECK_FALSE(f.logs_contain("TOKEN-ONE"));
  CHECK_FALSE(f.logs_contain("s3cret"));
}

TEST_CASE("openapi proxy: an invalid-token answer refetches once and sends again", "[openapi][proxy]") {
  Fixture f;
  f.request("POST", "/oapi/topapi/v2/user/get");
  f.http.answer(0, 200, token_body("OLD-TOKEN"));
  REQUIRE(f.http.calls.size() == 2);
  CHECK(f.http.calls[1].request.url.ends_with("access_token=OLD-TOKEN"));
  f.http.answer(1, 200, R"({"errcode":40014,"errmsg":"invalid access_token"})");
  REQUIRE(f.http.calls.size() == 3);  // the refetch
  f.http.answer(2, 200, token_body("NEW-TOKEN"));
  REQUIRE(f.http.calls.size() == 4);
  CHECK(f.http.calls[3].request.url.ends_with("access_token=NEW-TOKEN"));
  // A second refusal is passed back as it is: no loop.
  f.http.answer(3, 200, R"({"errcode":40014,"errmsg":"invalid access_token"})");
  REQUIRE(f.answers.size() == 1);
  CHECK(f.answers[0].status == 200);
  CHECK(f.answers[0].body.find("40014") != std::string::npos);
  CHECK(f.http.calls.size() == 4);
  CHECK_FALSE(f.logs_contain("OLD-TOKEN"));
  CHECK_FALSE(f.logs_contain("NEW-TOKEN"));
}

TEST_CASE("openapi proxy: no token is a 502 TokenUnavailable", "[openapi][proxy]") {
  Fixture f;
  f.request("GET", "/v1.0/contact/users/me");
  f.http.answer(0, 500, "{}");
  REQUIRE(f.answers.size() == 1);
  CHECK(f.answers[0].status == 502);
  CHECK(f.answers[0].body.find("\"code\":\"TokenUnavailable\"") != std::string::npos);
  CHECK_FALSE(f.logs_contain("s3cret"));
}

TEST_CASE("openapi proxy: no answer from DingTalk is a 502, a timeout a 504", "[openapi][proxy]") {
  Fixture f;
  f.request("GET", "/v1.0/a");
  f.http.answer(0, 200, token_body("T1"));
  f.http.answer(1, 0);
  f.request("GET", "/v1.0/b");
  REQUIRE(f.http.calls.size() == 3);
  dsb::deliver::Response timed_out;
  timed_out.failure = dsb::deliver::Failure::timed_out;
  timed_out.error = "timed out";
  auto done = std::move(f.http.calls[2].done);
  done(timed_out);
  REQUIRE(f.answers.size() == 2);
  CHECK(f.answers[0].status == 502);
  CHECK(f.answers[1].status == 504);
}
