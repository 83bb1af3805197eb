// OpenApiReplies with fake HTTP and time: a rate limit closes a gate for the whole app
// (new replies queue behind it, a probe goes first), the queue is capped, backoffs jitter.
#include <catch2/catch.hpp>

#include <string>

#include "admin/metrics.hpp"
#include "bridge/openapi_replies.hpp"
#include "support/fake_ports.hpp"

using namespace dsb;
using namespace dsb::bridge;
using dsb::testing::ManualTimers;
using dsb::testing::ManualWallClock;
using dsb::testing::ManualWebhooks;

namespace {

const char* kToken = R"({"accessToken":"tok1","expireIn":7200})";
const char* kSendPath = "/v1.0/robot/groupMessages/send";

struct Fixture {
  explicit Fixture(const std::string& name, double jitter_draw = 0.0)
      : draw(jitter_draw) {
    static int instances = 0;
    route = name + "-" + std::to_string(++instances);
  }
  // Sends reply number `n` (its body names it).
  void send(int n) {
    replies.send(route, app, OpenApiSend{kSendPath, "{\"n\":" + std::to_string(n) + "}"});
  }
  uint64_t count(const char* outcome) const {
    return metrics::global()
        .counter("dsb_robot_replies_total",
                 {{"app", "default"}, {"route", route}, {"via", "openapi"}, {"outcome", outcome}})
        .value();
  }
  // Indexes of the OpenAPI sends not answered yet.
  std::vector<size_t> open_sends() const {
    std::vector<size_t> out;
    for (size_t i = 0; i < http.calls.size(); ++i)
      if (http.calls[i].done && http.calls[i].request.url.find(kSendPath) != std::string::npos)
        out.push_back(i);
    return out;
  }

  double draw;
  std::string route;
  openapi::AppCredentials app{"https://api.dt/", "client", "secret", {}};
  ManualTimers timers;
  ManualWebhooks http;
  ManualWallClock clock;
  OpenApiReplies replies{http, timers, clock, [this] { return draw; }};
};

}  // namespace

TEST_CASE("openapi replies: one slash between api_base and the path", "[robot_replies]") {
  Fixture f("or-url");
  f.send(1);
  f.http.answer(0, 200, kToken);
  REQUIRE(f.http.calls.size() == 2);
  CHECK(f.http.calls[1].request.url == "https://api.dt/v1.0/robot/groupMessages/send");
  CHECK(f.http.calls[1].request.timeout == OpenApiReplies::kOpenApiTimeout);
}

TEST_CASE("openapi replies: while a rate limit lasts new replies queue, one probe goes first",
          "[robot_replies]") {
  Fixture f("or-gate");
  f.send(1);
  f.http.answer(0, 200, kToken);
  f.http.answer(1, 200, R"({"errcode":130101})");
  CHECK(f.replies.rate_limited());
  f.send(2);
  f.send(3);
  CHECK(f.http.calls.size() == 2);  // no new send probes DingTalk on its own
  CHECK(f.replies.waiting() == 3);
  f.timers.advance(OpenApiReplies::kRateLimitBackoff[0].count());
  REQUIRE(f.open_sends() == std::vector<size_t>{2});  // the probe: reply 1 again, alone
  CHECK(f.http.calls[2].request.body == R"({"n":1})");

  SECTION("the probe gets through: the rest follow in order") {
    f.http.answer(2, 200, "{}");
    REQUIRE(f.open_sends() == (std::vector<size_t>{3, 4}));
    CHECK(f.http.calls[3].request.body == R"({"n":2})");
    CHECK(f.http.calls[4].request.body == R"({"n":3})");
    CHECK_FALSE(f.replies.rate_limited());
    f.http.answer(3, 200, "{}");
    f.http.answer(4, 200, "{}");
    CHECK(f.count("sent") == 3);
    CHECK(f.replies.waiting() == 0);
  }
  SECTION("the probe is limited again: the gate stays closed for the next backoff") {
    f.http.answer(2, 429, "");
    CHECK(f.open_sends().empty());
    CHECK(f.timers.next_in() == OpenApiReplies::kRateLimitBackoff[1].count());
    f.timers.advance(OpenApiReplies::kRateLimitBackoff[1].count());
    REQUIRE(f.open_sends() == std::vector<size_t>{3});
    CHECK(f.http.calls[3].request.body == R"({"n":1})");  // the oldest probes again
  }
  SECTION("a probe that fails otherwise ends the limit too") {
    f.http.answer(2, 500, "{}");
    CHECK(f.count("failed") == 1);
    CHECK(f.open_sends().size() == 2);
  }
}

TEST_CASE("openapi replies: replies already out when the limit hits wait behind the probe",
          "[robot_replies]") {
  Fixture f("or-inflight");
  f.send(1);
  f.http.answer(0, 200, kToken);
  f.send(2);
  f.send(3);
  REQUIRE(f.open_sends() == (std::vector<size_t>{1, 2, 3}));
  f.http.answer(1, 429, "");
  f.http.answer(2, 429, "", "30");  // asks longer: the one timer moves
  CHECK(f.timers.pending() == 1);
  CHECK(f.timers.next_in() == 30'000);
  f.http.answer(3, 429, "");
  CHECK(f.timers.next_in() == 30'000);
  CHECK(f.replies.waiting() == 3);
  f.timers.advance(30'000);
  CHECK(f.open_sends().size() == 1);
}

TEST_CASE("openapi replies: the queue is capped, the overflow is failed, counted and logged",
          "[robot_replies]") {
  Fixture f("or-cap");
  f.send(0);
  f.http.answer(0, 200, kToken);
  f.http.answer(1, 429, "");
  for (size_t i = 1; i < OpenApiReplies::kMaxWaiting; ++i) f.send(static_cast<int>(i));
  CHECK(f.replies.waiting() == OpenApiReplies::kMaxWaiting);
  CHECK(f.count("failed") == 0);
  f.send(-1);
  f.send(-2);
  CHECK(f.replies.waiting() == OpenApiReplies::kMaxWaiting);
  CHECK(f.count("failed") == 2);
  CHECK(f.http.calls.size() == 2);
}

TEST_CASE("openapi replies: backoffs carry jitter on top, never less than the table",
          "[robot_replies]") {
  Fixture f("or-jitter", 0.5);
  f.send(1);
  f.http.answer(0, 200, kToken);
  f.http.answer(1, 429, "");
  const int64_t base = OpenApiReplies::kRateLimitBackoff[0].count();
  CHECK(f.timers.next_in() ==
        base + static_cast<int64_t>(static_cast<double>(base) * OpenApiReplies::kJitter * 0.5));

  SECTION("and on a Retry-After") {
    f.timers.advance(f.timers.next_in());
    f.http.answer(2, 429, "", "10");
    CHECK(f.timers.next_in() == 10'000 + static_cast<int64_t>(10'000 * OpenApiReplies::kJitter * 0.5));
  }
}

TEST_CASE("openapi replies: replies still queued at the end are counted failed", "[robot_replies]") {
  ManualTimers timers;
  ManualWebhooks http;
  ManualWallClock clock;
  const std::string route = "or-gone";
  auto failed = [&] {
    return metrics::global()
        .counter("dsb_robot_replies_total", {{"app", "default"}, {"route", route}, {"via", "openapi"}, {"outcome", "failed"}})
        .value();
  };
  const uint64_t before = failed();
  {
    OpenApiReplies replies(http, timers, clock, [] { return 0.0; });
    openapi::AppCredentials app{"https://api.dt", "client", "secret", {}};
    replies.send(route, app, OpenApiSend{kSendPath, "{}"});
    http.answer(0, 200, kToken);
    http.answer(1, 429, "");
    replies.send(route, app, OpenApiSend{kSendPath, "{}"});
    CHECK(timers.pending() == 1);
  }
  CHECK(timers.pending() == 0);
  CHECK(failed() == before + 2);
}
