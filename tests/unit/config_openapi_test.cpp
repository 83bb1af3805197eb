// `openapi:` (product.md section 13): per app in `apps:`, top-level in the single-app form;
// `dingtalk.oapi_base`; golden errors; `check` output.
#include <catch2/catch.hpp>

#include <fstream>

#include "config/loader.hpp"
#include "fixtures/config/fake_environment.hpp"

using dsb::config::Config;
using dsb::config::load_string;
using dsb::config::testing::FakeEnvironment;

namespace {

std::vector<std::string> errors_of(const std::string& yaml) {
  FakeEnvironment env;
  auto result = load_string(yaml, "bridge.yaml", env);
  std::vector<std::string> out;
  for (const auto& error : result.errors) out.push_back(error.to_string());
  CHECK(result.config.has_value() == out.empty());
  return out;
}

Config load_ok(const std::string& yaml) {
  FakeEnvironment env;
  auto result = load_string(yaml, "bridge.yaml", env);
  for (const auto& error : result.errors) UNSCOPED_INFO(error.to_string());
  REQUIRE(result.errors.empty());
  return *result.config;
}

const std::string kSingle =
    "dingtalk: {client_id: id, client_secret: s}\n"
    "routes: [{name: r, event: '*', url: 'http://127.0.0.1:1/h'}]\n";

std::string app(const std::string& name, const std::string& openapi) {
  return "  - name: " + name + "\n"
         "    client_id: " + name + "-id\n"
         "    client_secret: s\n"
         "    routes: [{name: r, event: '*', url: 'http://127.0.0.1:1/h'}]\n" +
         openapi;
}

}  // namespace

TEST_CASE("openapi: disabled by default, oapi_base defaults to oapi.dingtalk.com", "[config][openapi]") {
  Config c = load_ok(kSingle);
  CHECK_FALSE(c.apps[0].openapi.enabled());
  CHECK(c.apps[0].openapi.allow.empty());
  CHECK(c.apps[0].openapi.max_body == 10u * 1024 * 1024);
  CHECK(c.apps[0].dingtalk.oapi_base == "https://oapi.dingtalk.com");
  Config off = load_ok(kSingle + "openapi: {listen: \"\"}\n");
  CHECK_FALSE(off.apps[0].openapi.enabled());
}

TEST_CASE("openapi: top level in the single-app form", "[config][openapi]") {
  Config c = load_ok(
      "dingtalk: {client_id: id, client_secret: s, oapi_base: 'http://127.0.0.1:5/oapi/'}\n"
      "routes: [{name: r, event: '*', url: 'http://127.0.0.1:1/h'}]\n"
      "openapi:\n"
      "  listen: 127.0.0.1:9181\n"
      "  allow: ['/v1.0/robot/*', '/oapi/topapi/v2/user/get']\n"
      "  max_body: 1KiB\n");
  const auto& o = c.apps[0].openapi;
  REQUIRE(o.enabled());
  CHECK(o.listen->to_string() == "127.0.0.1:9181");
  CHECK(o.allow == std::vector<std::string>{"/v1.0/robot/*", "/oapi/topapi/v2/user/get"});
  CHECK(o.max_body == 1024);
  CHECK(c.apps[0].dingtalk.oapi_base == "http://127.0.0.1:5/oapi");
}

TEST_CASE("openapi: per app in apps", "[config][openapi]") {
  Config c = load_ok("apps:\n" + app("hr", "    openapi: {listen: 127.0.0.1:9181}\n") +
                     app("desk", "    openapi: {listen: '[::1]:9182'}\n") + app("quiet", ""));
  CHECK(c.apps[0].openapi.listen->to_string() == "127.0.0.1:9181");
  CHECK(c.apps[1].openapi.listen->to_string() == "[::1]:9182");
  CHECK_FALSE(c.apps[2].openapi.enabled());
}

TEST_CASE("openapi: golden errors", "[config][openapi]") {
  CHECK(errors_of(kSingle +
                  "openapi:\n"
                  "  listen: 'example.com:80'\n"
                  "  allow: ['/v1.0/[z-a]', 'v1.0/*']\n"
                  "  max_body: 0\n"
                  "  alow: []\n") ==
        std::vector<std::string>{
            "bridge.yaml:4:11: openapi.listen: the host must be an IPv4 address (all four "
            "numbers), [IPv6 address] or localhost, got \"example.com:80\" (host names are not "
            "looked up)",
            "bridge.yaml:5:11: openapi.allow[0]: bad glob \"/v1.0/[z-a]\" at character 8: "
            "reversed range \"z-a\" (write the lower character first)",
            "bridge.yaml:5:26: openapi.allow[1]: a path glob starts with \"/\", got \"v1.0/*\"",
            "bridge.yaml:6:13: openapi.max_body: must be greater than 0",
            "bridge.yaml:7:3: unknown key \"alow\" in openapi (did you mean \"allow\"?)",
        });
  CHECK(errors_of(kSingle + "openapi: {listen: 0.0.0.0:9181}\n") ==
        std::vector<std::string>{
            "bridge.yaml:3:19: openapi.listen: \"0.0.0.0:9181\" is not a loopback address: whoever "
            "reaches it calls the OpenAPI as the app; set allow_remote: true to mean it"});
  CHECK(errors_of(kSingle + "openapi: {listen: 0.0.0.0:9181, allow_remote: true}\n").empty());
  CHECK(errors_of("apps:\n" + app("hr", "    openapi: {listen: 127.0.0.1:9181}\n") +
                  app("desk", "    openapi: {listen: 127.0.0.1:9181}\n")) ==
        std::vector<std::string>{"bridge.yaml:11:23: openapi.listen in app \"desk\": "
                                 "127.0.0.1:9181 is already used by app \"hr\" (line 6)"});
  CHECK(errors_of(kSingle + "admin: {listen: 127.0.0.1:9181}\nopenapi: {listen: 127.0.0.1:9181}\n") ==
        std::vector<std::string>{"bridge.yaml:4:19: openapi.listen: 127.0.0.1:9181 is already "
                                 "used by the admin endpoint"});
  CHECK(errors_of("apps:\n" + app("hr", "") + "openapi: {listen: 127.0.0.1:9181}\n").size() == 1);
}

TEST_CASE("openapi: check prints the endpoint", "[config][openapi]") {
  Config c = load_ok(kSingle + "openapi: {listen: 127.0.0.1:9181, allow: ['/v1.0/robot/*']}\n");
  const std::string out = dsb::config::describe(c);
  CHECK(out.find("openapi: 127.0.0.1:9181 -> https://api.dingtalk.com (/v1.0/...), "
                 "https://oapi.dingtalk.com (/oapi/...)\n"
                 "  allow /v1.0/robot/*, max_body 10 MiB\n") != std::string::npos);
  Config all = load_ok(kSingle + "openapi: {listen: 127.0.0.1:9181}\n");
  CHECK(dsb::config::describe(all).find("  allow every path, max_body 10 MiB\n") != std::string::npos);
}

TEST_CASE("the example configs document openapi", "[config][openapi]") {
  std::ifstream in(BRIDGE_SOURCE_DIR "/config/bridge.example.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const char* key : {"oapi_base:", "openapi:", "listen:", "allow:", "allow_remote:", "max_body:"}) {
    INFO(key);
    CHECK(text.find(key) != std::string::npos);
  }
}
