#include <catch2/catch.hpp>

#include <map>

#include "deliver/raw_format.hpp"
#include "deliver/signature.hpp"

using namespace dsb::deliver;
using dsb::config::Route;
using dsb::stream::Frame;
using dsb::stream::FrameType;

namespace {

std::map<std::string, std::string> header_map(const Request& r) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : r.headers) {
    REQUIRE(out.count(k) == 0);  // no header twice
    out[k] = v;
  }
  return out;
}

Frame event_frame() {
  Frame f;
  f.type = FrameType::event;
  f.headers = {{"messageId", "m-1"},       {"topic", "*"},
               {"eventType", "user_add_org"}, {"eventId", "e-1"},
               {"eventCorpId", "corp-1"},  {"eventBornTime", "1683533823336"}};
  f.data = R"({"userId":["u1"]})";
  return f;
}

}  // namespace

TEST_CASE("raw event request: data as body, every X-DingTalk header, idempotency key", "[raw]") {
  Route route;
  route.name = "events";
  route.timeout = std::chrono::milliseconds(1234);
  route.headers = {{"Authorization", "Bearer local"}, {"x-dingtalk-event-id", "forged"}};
  Request r = build_raw_request(route, "http://127.0.0.1:1/e", event_frame(), "e-1", 1700000000000);

  CHECK(r.url == "http://127.0.0.1:1/e");
  CHECK(r.body == R"({"userId":["u1"]})");
  CHECK(r.timeout.count() == 1234);
  auto h = header_map(r);
  CHECK(h == std::map<std::string, std::string>{
                 {"Content-Type", "application/json"},
                 {"X-DingTalk-Type", "EVENT"},
                 {"X-DingTalk-Topic", "*"},
                 {"X-DingTalk-Message-Id", "m-1"},
                 {"X-DingTalk-Event-Type", "user_add_org"},
                 {"X-DingTalk-Event-Id", "e-1"},
                 {"X-DingTalk-Event-Corp-Id", "corp-1"},
                 {"X-DingTalk-Event-Born-Time", "1683533823336"},
                 {"Idempotency-Key", "e-1"},
                 {"Authorization", "Bearer local"},
             });
}

TEST_CASE("raw callback request has no event headers", "[raw]") {
  Frame f;
  f.type = FrameType::callback;
  f.headers = {{"messageId", "m-2"}, {"topic", "/v1.0/card/instances/callback"}};
  f.data = R"({"outTrackId":"x"})";
  auto h = header_map(build_raw_request(Route{}, "http://h/", f, "m-2", 0));
  CHECK(h["X-DingTalk-Type"] == "CALLBACK");
  CHECK(h["X-DingTalk-Topic"] == "/v1.0/card/instances/callback");
  CHECK(h.count("X-DingTalk-Event-Type") == 0);
  CHECK(h["Idempotency-Key"] == "m-2");
}

TEST_CASE("signing_secret adds timestamp and v1 signature over timestamp.body", "[raw]") {
  Route route;
  route.signing_secret = "s3cret";
  Frame f = event_frame();
  f.data = R"({"a":1})";
  auto h = header_map(build_raw_request(route, "http://h/", f, "e-1", 1700000000000));
  CHECK(h["X-Bridge-Timestamp"] == "1700000000000");
  // Same value as `printf '1700000000000.{"a":1}' | openssl dgst -sha256 -hmac s3cret`.
  CHECK(h["X-Bridge-Signature"] ==
        "v1=8a6f992378d0d47b6fcdf1cc8d72e46ba5c789b2c9d3a538be31fe07d598ba6d");
}

TEST_CASE("signing standard-webhooks: webhook-id is the Idempotency-Key, timestamp in seconds",
          "[raw]") {
  Route route;
  route.signing = dsb::config::Signing::standard_webhooks;
  route.signing_secret = "decoded-key-bytes";
  Frame f = event_frame();
  auto h = header_map(build_raw_request(route, "http://h/", f, "e-1", 1700000000999));
  CHECK(h["webhook-id"] == "e-1");
  CHECK(h["webhook-id"] == h["Idempotency-Key"]);
  CHECK(h["webhook-timestamp"] == "1700000000");
  CHECK(h["webhook-signature"] ==
        standard_webhooks_signature("decoded-key-bytes", "e-1", "1700000000", f.data));
  CHECK(h.count("X-Bridge-Signature") == 0);
  CHECK(h.count("X-Bridge-Timestamp") == 0);
}

TEST_CASE("no signing headers without a signing_secret, whatever `signing` says", "[raw]") {
  Route route;
  route.signing = dsb::config::Signing::standard_webhooks;
  auto h = header_map(build_raw_request(route, "http://h/", event_frame(), "e-1", 1700000000000));
  CHECK(h.count("webhook-signature") == 0);
  CHECK(h.count("webhook-id") == 0);
}
