// The access-token cache with fake HTTP and a hand-moved clock: one fetch for many
// waiters, expiry, invalidate -> exactly one refetch, failure and recovery, no secret in
// any log line or reason.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "openapi/access_token_cache.hpp"
#include "support/fake_ports.hpp"

using dsb::Result;
using dsb::openapi::AccessTokenCache;
using dsb::openapi::AppCredentials;
using dsb::testing::ManualTimers;
using dsb::testing::ManualWebhooks;

namespace {

const AppCredentials kApp{"http://dt.example/", "app-key", "s3cret-VALUE",
                          {"http://proxy:3128", "/etc/dsb/extra-ca.pem"}};

std::vector<std::string> g_lines;
void capture(std::string_view line) { g_lines.emplace_back(line); }

struct Fixture {
  Fixture() {
    g_lines.clear();
    dsb::log::set_sink(&capture);
    dsb::log::configure(dsb::log::Level::trace, dsb::log::Format::text);
    cache.set_app(kApp);
  }
  ~Fixture() {
    dsb::log::set_sink(nullptr);
    dsb::log::configure(dsb::log::Level::info, dsb::log::Format::text);
  }
  // get() whose results land in `results`.
  void get() {
    cache.get([this](Result<std::string> r) {
      results.push_back(r ? "token:" + r.value() : "error:" + r.status().message());
    });
  }

  ManualTimers timers;
  ManualWebhooks http;
  AccessTokenCache cache{http, timers};
  std::vector<std::string> results;
};

std::string token_body(const std::string& token, int64_t expire_in = 7200) {
  return R"({"accessToken":")" + token + R"(","expireIn":)" + std::to_string(expire_in) + "}";
}

}  // namespace

TEST_CASE("access token: the request is DingTalk's, through the proxy with the extra CA",
          "[openapi]") {
  Fixture f;
  f.get();
  REQUIRE(f.http.calls.size() == 1);
  const auto& request = f.http.calls[0].request;
  CHECK(request.url == "http://dt.example/v1.0/oauth2/accessToken");
  CHECK(request.body == R"({"appKey":"app-key","appSecret":"s3cret-VALUE"})");
  CHECK(f.http.calls[0].header("Content-Type") == "application/json");
  CHECK(request.transport.proxy == "http://proxy:3128");
  CHECK(request.transport.extra_ca_file == "/etc/dsb/extra-ca.pem");
}

TEST_CASE("access token: 100 concurrent gets share one fetch", "[openapi]") {
  Fixture f;
  for (int i = 0; i < 100; ++i) f.get();
  CHECK(f.http.calls.size() == 1);
  CHECK(f.results.empty());
  f.http.answer(0, 200, token_body("tok1"));
  REQUIRE(f.results.size() == 100);
  for (const auto& r : f.results) CHECK(r == "token:tok1");
  f.get();  // cached now: answered at once
  CHECK(f.results.back() == "token:tok1");
  CHECK(f.http.calls.size() == 1);
  CHECK(f.cache.fetches() == 1);
}

TEST_CASE("access token: refreshed shortly before expireIn", "[openapi]") {
  Fixture f;
  f.get();
  f.http.answer(0, 200, token_body("tok1", 7200));
  f.timers.advance(6'899'000);  // expireIn - 300 s is the last moment it is handed out
  f.get();
  CHECK(f.http.calls.size() == 1);
  f.timers.advance(1'000);
  f.get();
  REQUIRE(f.http.calls.size() == 2);
  f.http.answer(1, 200, token_body("tok2", 7200));
  CHECK(f.results.back() == "token:tok2");

  SECTION("a short-lived token keeps 90 % of its life") {
    f.timers.advance(7'200'000);
    f.get();
    REQUIRE(f.http.calls.size() == 3);
    f.http.answer(2, 200, token_body("tok3", 100));
    f.timers.advance(89'000);
    f.get();
    CHECK(f.http.calls.size() == 3);
    f.timers.advance(1'000);
    f.get();
    CHECK(f.http.calls.size() == 4);
  }
}

TEST_CASE("access token: invalidate drops only the token it names, once", "[openapi]") {
  Fixture f;
  f.get();
  f.http.answer(0, 200, token_body("tok1"));
  // Three callers saw tok1 refused; only the first invalidate has an effect.
  f.cache.invalidate("tok1");
  f.get();
  f.cache.invalidate("tok1");
  f.get();
  f.cache.invalidate("tok1");
  f.get();
  REQUIRE(f.http.calls.size() == 2);  // exactly one refetch, shared by the three
  f.http.answer(1, 200, token_body("tok2"));
  CHECK(f.results == std::vector<std::string>{"token:tok1", "token:tok2", "token:tok2", "token:tok2"});
  f.cache.invalidate("tok1");  // stale: tok2 stays
  f.cache.invalidate("");
  f.get();
  CHECK(f.http.calls.size() == 2);
  CHECK(f.results.back() == "token:tok2");
}

TEST_CASE("access token: failure reaches every waiter, retried after the pause", "[openapi]") {
  Fixture f;
  f.get();
  f.get();
  f.http.answer(0, 401, R"({"code":"InvalidAuthentication","message":"appSecret s3cret-VALUE wrong"})");
  REQUIRE(f.results.size() == 2);
  CHECK(f.results[0] == "error:access token: HTTP 401 (InvalidAuthentication)");
  CHECK(f.results[1] == f.results[0]);

  f.get();  // within kRetryAfterFailureMs: the same failure, no new fetch
  CHECK(f.http.calls.size() == 1);
  CHECK(f.results.back() == f.results[0]);

  f.timers.advance(AccessTokenCache::kRetryAfterFailureMs);
  f.get();
  REQUIRE(f.http.calls.size() == 2);
  f.http.answer(1, 200, token_body("tok1"));
  CHECK(f.results.back() == "token:tok1");

  SECTION("transport failures and malformed answers are failures too") {
    f.cache.invalidate("tok1");
    f.get();
    f.http.answer(2, 0);
    CHECK(f.results.back() == "error:access token: no answer: Connection refused");
    f.timers.advance(AccessTokenCache::kRetryAfterFailureMs);
    f.get();
    f.http.answer(3, 200, R"({"accessToken":"tokX"})");
    CHECK(f.results.back() == "error:access token: token API answer has no positive expireIn");
    f.timers.advance(AccessTokenCache::kRetryAfterFailureMs);
    f.get();
    f.http.answer(4, 200, R"(tokY not json)");
    CHECK(f.results.back().find("tokY") == std::string::npos);
  }
}

TEST_CASE("access token: a waiter that asks again on failure gets the failure, no loop",
          "[openapi]") {
  Fixture f;
  int asked = 0;
  std::function<void(Result<std::string>)> again = [&](Result<std::string> r) {
    if (!r && ++asked < 3) f.cache.get(again);
  };
  f.cache.get(again);
  f.http.answer(0, 500);
  CHECK(asked == 3);
  CHECK(f.http.calls.size() == 1);
}

TEST_CASE("access token: new credentials drop the token and redo a running fetch", "[openapi]") {
  Fixture f;
  f.get();
  f.http.answer(0, 200, token_body("tok1"));
  f.get();
  CHECK(f.http.calls.size() == 1);

  f.cache.invalidate("tok1");
  f.get();  // fetch 2 running
  AppCredentials rotated = kApp;
  rotated.client_secret = "n3w-secret";
  f.cache.set_app(rotated);  // fetch 3 replaces it for the waiter
  REQUIRE(f.http.calls.size() == 3);
  CHECK(f.http.calls[2].request.body.find("n3w-secret") != std::string::npos);
  f.http.answer(1, 200, token_body("old"));  // stale: ignored
  CHECK(f.results.size() == 2);
  f.http.answer(2, 200, token_body("new"));
  CHECK(f.results.back() == "token:new");
  f.cache.set_app(rotated);  // unchanged: keeps the token
  f.get();
  CHECK(f.http.calls.size() == 3);
}

TEST_CASE("access token: neither the token nor the secret reaches a log line", "[openapi]") {
  Fixture f;
  f.get();
  f.http.answer(0, 200, token_body("tok-SENSITIVE"));
  f.cache.invalidate("tok-SENSITIVE");
  f.get();
  f.http.answer(1, 400, R"({"code":"InvalidParameter","message":"s3cret-VALUE tok-SENSITIVE"})");
  CHECK(f.results.back() == "error:access token: HTTP 400 (InvalidParameter)");
  REQUIRE_FALSE(g_lines.empty());
  for (const auto& line : g_lines) {
    CHECK(line.find("s3cret-VALUE") == std::string::npos);
    CHECK(line.find("tok-SENSITIVE") == std::string::npos);
  }
}

TEST_CASE("access token: an answer after the cache is gone is ignored", "[openapi]") {
  ManualTimers timers;
  ManualWebhooks http;
  bool called = false;
  {
    AccessTokenCache cache(http, timers);
    cache.set_app(kApp);
    cache.get([&](Result<std::string>) { called = true; });
  }
  http.answer(0, 200, token_body("late"));
  CHECK_FALSE(called);
}

TEST_CASE("access token: expireIn is clamped before any arithmetic", "[openapi]") {
  Fixture f;
  SECTION("INT64_MAX lives one day") {
    f.get();
    f.http.answer(0, 200, token_body("tokMax", INT64_MAX));
    CHECK(f.results.back() == "token:tokMax");
    f.timers.advance(AccessTokenCache::kMaxExpireInS * 1000 - 300'000 - 1);
    f.get();
    CHECK(f.http.calls.size() == 1);
    f.timers.advance(1);
    f.get();
    CHECK(f.http.calls.size() == 2);
  }
  SECTION("a number beyond int64 lives one day too") {
    f.get();
    f.http.answer(0, 200, R"({"accessToken":"tokBig","expireIn":18446744073709551615})");
    CHECK(f.results.back() == "token:tokBig");
    f.timers.advance(AccessTokenCache::kMaxExpireInS * 1000 - 300'000);
    f.get();
    CHECK(f.http.calls.size() == 2);
  }
  SECTION("one second is kept for a minute's 90 %") {
    f.get();
    f.http.answer(0, 200, token_body("tokShort", 1));
    f.timers.advance(53'999);
    f.get();
    CHECK(f.http.calls.size() == 1);
    f.timers.advance(1);
    f.get();
    CHECK(f.http.calls.size() == 2);
  }
  SECTION("0 and negative are not a token") {
    for (int64_t bad : {int64_t{0}, int64_t{-1}, INT64_MIN}) {
      f.timers.advance(AccessTokenCache::kRetryAfterFailureMs);
      f.get();
      f.http.answer(f.http.calls.size() - 1, 200, token_body("tokBad", bad));
      CHECK(f.results.back() == "error:access token: token API answer has no positive expireIn");
    }
  }
}
