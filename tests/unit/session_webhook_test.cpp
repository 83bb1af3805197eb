// Where a robot reply may go: https anywhere, or the exact origin of dingtalk.api_base.
#include <catch2/catch.hpp>

#include "bridge/session_webhook.hpp"

using dsb::bridge::check_session_webhook;

namespace {

bool allowed(const char* session_webhook, const char* api_base = "https://api.dingtalk.com") {
  return check_session_webhook(session_webhook, api_base).is_ok();
}

}  // namespace

TEST_CASE("sessionWebhook: https to any host is allowed", "[session_webhook]") {
  CHECK(allowed("https://oapi.dingtalk.com/robot/sendBySession?session=abc"));
  CHECK(allowed("HTTPS://oapi.dingtalk.com:8443/robot/sendBySession"));
}

TEST_CASE("sessionWebhook: plain http only on api_base's scheme, host and port",
          "[session_webhook]") {
  const char* emulator = "http://127.0.0.1:38493";
  CHECK(allowed("http://127.0.0.1:38493/robot/sendBySession?session=s", emulator));
  CHECK(allowed("http://api.example:80/s", "http://API.example/"));  // default port, any case
  CHECK_FALSE(allowed("http://127.0.0.1:38494/robot/sendBySession", emulator));  // other port
  CHECK_FALSE(allowed("http://127.0.0.2:38493/robot/sendBySession", emulator));  // other host
  CHECK_FALSE(allowed("http://oapi.dingtalk.com/robot/sendBySession"));  // api_base is https
  CHECK_FALSE(allowed("http://169.254.169.254/latest/meta-data/"));
}

TEST_CASE("sessionWebhook: other schemes and non-URLs are refused, the scheme named",
          "[session_webhook]") {
  const char* emulator = "http://127.0.0.1:38493";
  for (const char* url : {"gopher://127.0.0.1:38493/_PING%0D%0A", "dict://127.0.0.1:38493/d:x",
                          "telnet://127.0.0.1:38493/", "file:///etc/passwd",
                          "ftp://127.0.0.1:38493/x"}) {
    INFO(url);
    auto status = check_session_webhook(url, emulator);
    REQUIRE_FALSE(status.is_ok());
    CHECK_THAT(status.message(), Catch::Matchers::Contains("neither https nor on dingtalk.api_base"));
  }
  CHECK_FALSE(allowed("", emulator));
  CHECK_FALSE(allowed("not a url", emulator));
  CHECK_FALSE(allowed("//127.0.0.1:38493/s", emulator));
}
