// Route keys of product.md section 11: signing (bridge-v1 | standard-webhooks), rate, and
// retry.retry_4xx. Valid forms parse into their typed values; bad ones are file:line:col
// errors that never quote a secret. Also the cap on a route's static headers.
#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "fixtures/config/fake_environment.hpp"

using namespace std::chrono_literals;
using dsb::config::Config;
using dsb::config::load_string;
using dsb::config::Route;
using dsb::config::Signing;
using dsb::config::testing::FakeEnvironment;

namespace {

const std::string kHead =
    "dingtalk:\n"
    "  client_id: app\n"
    "  client_secret: shh\n"
    "routes:\n"
    "  - name: r\n"
    "    event: \"*\"\n"
    "    url: http://127.0.0.1:8080/e\n";  // the route's keys below start at line 8

struct Loaded {
  std::optional<Config> config;
  std::vector<std::string> errors;
};

Loaded load(const std::string& route_keys, const FakeEnvironment& env = {}) {
  auto result = load_string(kHead + route_keys, "bridge.yaml", env);
  Loaded out{result.config, {}};
  for (const auto& error : result.errors) out.errors.push_back(error.to_string());
  return out;
}

Route route_of(const std::string& route_keys, const FakeEnvironment& env = {}) {
  Loaded loaded = load(route_keys, env);
  for (const auto& error : loaded.errors) UNSCOPED_INFO(error);
  REQUIRE(loaded.config.has_value());
  return loaded.config->apps[0].routes.at(0);
}

}  // namespace

TEST_CASE("signing defaults to bridge-v1 with the secret as written", "[config]") {
  Route r = route_of("    signing_secret: plain\n");
  CHECK(r.signing == Signing::bridge_v1);
  CHECK(r.signing_secret == "plain");
  CHECK(route_of("").signing_secret.empty());
}

TEST_CASE("signing standard-webhooks decodes the whsec_ key", "[config]") {
  // The specification's example secret: whsec_ + base64 of 24 bytes.
  Route r = route_of(
      "    signing: standard-webhooks\n"
      "    signing_secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n");
  CHECK(r.signing == Signing::standard_webhooks);
  CHECK(r.signing_secret.size() == 24);
  CHECK(r.signing_secret.substr(0, 3) == "\x31\xf2\x90");
}

TEST_CASE("signing standard-webhooks takes the secret from signing_secret_file", "[config]") {
  FakeEnvironment env;
  env.files = {{"/run/sign", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"}};
  Route r = route_of(
      "    signing: standard-webhooks\n"
      "    signing_secret_file: /run/sign\n",
      env);
  CHECK(r.signing_secret.size() == 24);
}

TEST_CASE("signing errors name the key and never the secret", "[config]") {
  CHECK(load("    signing: hmac\n").errors ==
        std::vector<std::string>{
            "bridge.yaml:8:14: signing in route \"r\": must be one of bridge-v1, "
            "standard-webhooks, got \"hmac\""});
  CHECK(load("    signing: standard-webhooks\n").errors ==
        std::vector<std::string>{
            "bridge.yaml:5:5: missing key \"signing_secret\" in route \"r\" (signing "
            "standard-webhooks needs a whsec_ secret)"});
  for (const char* secret : {"NOTWHSEC-c2VjcmV0c2VjcmV0c2VjcmV0", "whsec_!!!notbase64",
                             "whsec_c2hvcnQ="}) {
    INFO(secret);
    Loaded loaded = load(std::string("    signing: standard-webhooks\n    signing_secret: ") +
                         secret + "\n");
    REQUIRE(loaded.errors.size() == 1);
    CHECK(loaded.errors[0] ==
          "bridge.yaml:9:21: signing_secret in route \"r\": signing standard-webhooks needs "
          "\"whsec_\" followed by the base64 of at least 16 key bytes");
  }
}

TEST_CASE("rate is N/s or N/m", "[config]") {
  CHECK_FALSE(route_of("").rate.limited());
  Route per_second = route_of("    rate: 50/s\n");
  CHECK(per_second.rate.count == 50);
  CHECK(per_second.rate.per == 1s);
  Route per_minute = route_of("    rate: 3/m\n");
  CHECK(per_minute.rate.count == 3);
  CHECK(per_minute.rate.per == 1min);
}

TEST_CASE("a bad rate is an error at its value", "[config]") {
  for (const char* bad : {"50", "50/h", "/s", "x/s", "5/s/s", "1.5/s"}) {
    INFO(bad);
    Loaded loaded = load(std::string("    rate: \"") + bad + "\"\n");
    REQUIRE(loaded.errors.size() == 1);
    CHECK(loaded.errors[0] == std::string("bridge.yaml:8:11: rate in route \"r\": expected N/s "
                                          "or N/m (POSTs started per second or minute), got \"") +
                                  bad + "\"");
  }
  CHECK(load("    rate: 0/s\n").errors ==
        std::vector<std::string>{
            "bridge.yaml:8:11: rate in route \"r\": must be between 1 and 1000000 per second, "
            "got 0"});
}

TEST_CASE("retry.retry_4xx is a boolean, false by default", "[config]") {
  CHECK_FALSE(route_of("    delivery: spool\n").retry.retry_4xx);
  CHECK(route_of("    delivery: spool\n    retry: {retry_4xx: true}\n").retry.retry_4xx);
  CHECK(load("    retry: {retry_4xx: yes}\n").errors ==
        std::vector<std::string>{
            "bridge.yaml:8:24: retry.retry_4xx in route \"r\": expected true or false, got "
            "\"yes\""});
}

TEST_CASE("a route sets at most 64 static headers", "[config]") {
  std::string headers = "    headers:\n";
  for (int i = 0; i < 64; ++i) headers += "      X-H" + std::to_string(i) + ": v\n";
  CHECK(route_of(headers).headers.size() == 64);
  headers += "      X-H64: v\n";
  CHECK(load(headers).errors ==
        std::vector<std::string>{
            "bridge.yaml:9:7: headers in route \"r\": sets 65 headers; a route may set at most 64"});
}
