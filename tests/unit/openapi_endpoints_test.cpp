// Which config changes touch an app's OpenAPI endpoint (they take effect on restart, and a
// reload says so).
#include <catch2/catch.hpp>

#include "bridge/openapi_endpoints.hpp"

using dsb::bridge::OpenApiEndpoints;
using dsb::config::App;
using dsb::config::Config;
using dsb::config::ListenAddress;

namespace {

Config with(std::vector<App> apps) {
  Config c;
  c.apps = std::move(apps);
  return c;
}

App app(const std::string& name, int port) {
  App a;
  a.name = name;
  if (port != 0) a.openapi.listen = ListenAddress{"127.0.0.1", port, false};
  return a;
}

}  // namespace

TEST_CASE("openapi endpoints: what a reload would change", "[openapi]") {
  const Config running = with({app("hr", 9181), app("desk", 0)});
  CHECK_FALSE(OpenApiEndpoints::differ(running, running));
  CHECK(OpenApiEndpoints::differ(running, with({app("hr", 9182), app("desk", 0)})));
  CHECK(OpenApiEndpoints::differ(running, with({app("hr", 9181), app("desk", 9183)})));
  CHECK(OpenApiEndpoints::differ(running, with({app("desk", 0)})));          // hr's endpoint gone
  CHECK_FALSE(OpenApiEndpoints::differ(running, with({app("hr", 9181)})));   // desk had none
  Config allow = running;
  allow.apps[0].openapi.allow = {"/v1.0/robot/*"};
  CHECK(OpenApiEndpoints::differ(running, allow));
  Config secret = running;
  secret.apps[0].dingtalk.client_secret = "new";  // the token cache takes it at once
  CHECK_FALSE(OpenApiEndpoints::differ(running, secret));
  CHECK(OpenApiEndpoints::fds_needed(running) == dsb::openapi::LocalServer::kFdsNeeded);
}
