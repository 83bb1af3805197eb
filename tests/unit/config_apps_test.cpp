// The `apps:` form (product.md section 12): several apps, each with its own credentials and
// routes; the single-app form as the app "default"; golden errors; `check` output per app.
#include <catch2/catch.hpp>

#include <fstream>

#include "config/loader.hpp"
#include "fixtures/config/fake_environment.hpp"

using dsb::config::App;
using dsb::config::Config;
using dsb::config::load_file;
using dsb::config::load_string;
using dsb::config::Subscription;
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

const std::string kTwoApps =
    "apps:\n"
    "  - name: hr\n"
    "    client_id: hr-id\n"
    "    client_secret: hr-secret\n"
    "    connections: 2\n"
    "    routes:\n"
    "      - {name: approvals, event: \"bpms_*\", url: \"http://h/a\", delivery: spool}\n"
    "      - {name: robot, topic: /v1.0/im/bot/messages/get, url: \"http://h/r\"}\n"
    "  - name: sales\n"
    "    client_id: sales-id\n"
    "    client_secret: sales-secret\n"
    "    api_base: http://127.0.0.1:9000/\n"
    "    routes:\n"
    "      - {name: robot, topic: /v1.0/im/bot/messages/get, url: \"http://h/s\"}\n";

// One valid app item, for snippets about the list around it (lines 2-5).
const std::string kAppA =
    "  - name: a\n    client_id: id-a\n    client_secret: s\n"
    "    routes: [{name: r, event: \"*\", url: \"http://h/x\"}]\n";

}  // namespace

TEST_CASE("apps: each app has its credentials, connections and routes", "[config][apps]") {
  Config c = load_ok(kTwoApps);
  REQUIRE(c.apps.size() == 2);
  const App& hr = c.apps[0];
  CHECK(hr.name == "hr");
  CHECK_FALSE(hr.is_default());
  CHECK(hr.dingtalk.client_id == "hr-id");
  CHECK(hr.dingtalk.client_secret == "hr-secret");
  CHECK(hr.dingtalk.connections == 2);
  CHECK(hr.dingtalk.api_base == "https://api.dingtalk.com");
  REQUIRE(hr.routes.size() == 2);
  CHECK(hr.location.line == 2);
  CHECK(hr.subscriptions() ==
        std::vector<Subscription>{{"CALLBACK", "/v1.0/im/bot/messages/get"}, {"EVENT", "*"}});
  const App& sales = c.apps[1];
  CHECK(sales.dingtalk.api_base == "http://127.0.0.1:9000");
  CHECK(sales.dingtalk.connections == 1);
  CHECK(sales.subscriptions() == std::vector<Subscription>{{"CALLBACK", "/v1.0/im/bot/messages/get"}});
  // Route names are unique per app only: both have "robot".
  CHECK(sales.routes[0].name == "robot");
}

TEST_CASE("apps: routes go by <app>/<route> outside the app default", "[config][apps]") {
  Config c = load_ok(kTwoApps);
  CHECK(qualified_route_name(c.apps[0], c.apps[0].routes[0]) == "hr/approvals");
  const auto found = c.find_route("sales/robot");
  REQUIRE(found.route != nullptr);
  CHECK(found.app == &c.apps[1]);
  CHECK(found.route->urls[0] == "http://h/s");
  CHECK(c.find_route("robot").route == nullptr);  // no app "default" here
  CHECK(c.find_route("hr/nope").route == nullptr);
  Config narrowed = c.narrowed_to("sales");
  REQUIRE(narrowed.apps.size() == 1);
  CHECK(narrowed.apps[0].name == "sales");

  Config single = load_ok("dingtalk: {client_id: id, client_secret: s}\n"
                          "routes: [{name: r, event: \"*\", url: \"http://h/x\"}]\n");
  REQUIRE(single.apps.size() == 1);
  CHECK(single.apps[0].name == "default");
  CHECK(single.apps[0].is_default());
  CHECK(qualified_route_name(single.apps[0], single.apps[0].routes[0]) == "r");
  CHECK(single.find_route("r").route == &single.apps[0].routes[0]);
}

TEST_CASE("apps: golden errors", "[config][apps]") {
  CHECK(errors_of("dingtalk: {client_id: id, client_secret: s}\n"
                  "routes: [{name: r, event: \"*\", url: \"http://h/x\"}]\n"
                  "apps:\n" + kAppA) ==
        std::vector<std::string>{
            "bridge.yaml:1:11: dingtalk: cannot be combined with apps; give each app its dingtalk "
            "keys and routes inside apps, or use dingtalk and routes without apps (the app \"default\")",
            "bridge.yaml:2:9: routes: cannot be combined with apps; give each app its dingtalk "
            "keys and routes inside apps, or use dingtalk and routes without apps (the app \"default\")"});
  CHECK(errors_of("apps: []\n") ==
        std::vector<std::string>{"bridge.yaml:1:7: apps: at least one app is needed"});
  CHECK(errors_of("apps: {a: 1}\n") ==
        std::vector<std::string>{"bridge.yaml:1:7: apps: expected a list of apps, got a mapping"});
  CHECK(errors_of("apps:\n" + kAppA + "  - name: a\n    client_id: id-b\n    client_secret: s\n"
                  "    routes: [{name: r, event: \"*\", url: \"http://h/x\"}]\n") ==
        std::vector<std::string>{"bridge.yaml:6:11: name in app \"a\": already used by the app at line 2"});
  CHECK(errors_of("apps:\n" + kAppA + "  - name: b\n    client_id: id-a\n    client_secret: s\n"
                  "    routes: [{name: r, event: \"*\", url: \"http://h/x\"}]\n") ==
        std::vector<std::string>{"bridge.yaml:7:16: client_id in app \"b\": already used by app \"a\" "
                                 "(line 3); one app per client id"});
  CHECK(errors_of("apps:\n  - name: Bad.Name\n    client_id: i\n    client_secret: s\n"
                  "    routes: [{name: r, event: \"*\", url: \"http://h/x\"}]\n") ==
        std::vector<std::string>{"bridge.yaml:2:11: name in app #1: may contain only a-z, 0-9, \"_\" "
                                 "and \"-\", got \"Bad.Name\""});
  CHECK(errors_of("apps:\n  - name: " + std::string(33, 'x') + "\n    client_id: i\n    client_secret: s\n"
                  "    routes: [{name: r, event: \"*\", url: \"http://h/x\"}]\n") ==
        std::vector<std::string>{"bridge.yaml:2:11: name in app #1: must be 1 to 32 characters, got 33"});
  CHECK(errors_of("apps:\n  - name: a\n    client_id: i\n    client_secret: s\n    conections: 2\n"
                  "    routes: [{name: r, event: \"*\", url: \"http://h/x\"}]\n") ==
        std::vector<std::string>{"bridge.yaml:5:5: unknown key \"conections\" in app \"a\" (did you mean "
                                 "\"connections\"?)"});
  CHECK(errors_of("apps:\n  - client_id: i\n    client_secret: s\n    connections: 9\n") ==
        std::vector<std::string>{"bridge.yaml:2:5: missing key \"name\" in app #1",
                                 "bridge.yaml:2:5: missing key \"routes\" in app #1 (at least one route is needed)",
                                 "bridge.yaml:4:18: connections in app #1: must be between 1 and 8, got 9"});
  CHECK(errors_of("apps:\n  - name: a\n    client_id: i\n    client_secret: s\n    routes:\n"
                  "      - {name: r, event: \"*\", url: \"http://h/x\"}\n"
                  "      - {name: r, event: \"*\", url: \"http://h/y\"}\n") ==
        std::vector<std::string>{"bridge.yaml:7:16: name in route \"r\" of app \"a\": already used by the "
                                 "route at line 6"});
  CHECK(errors_of("apps:\n  - 3\n") ==
        std::vector<std::string>{"bridge.yaml:2:5: app #1: expected a mapping with name, client_id, "
                                 "client_secret and routes, got a string"});
}

TEST_CASE("apps: check prints each app's subscriptions and routes", "[config][apps]") {
  Config c = load_ok(kTwoApps);
  CHECK(dsb::config::describe(c) ==
        "store: sqlite in /var/lib/dingtalk-stream-bridge\n"
        "app hr (client_id hr-id, 2 connections):\n"
        "  subscriptions:\n"
        "    CALLBACK /v1.0/im/bot/messages/get\n"
        "    EVENT *\n"
        "  routes (first match wins):\n"
        "    approvals: event bpms_* -> http://h/a\n"
        "      format raw, delivery spool, timeout 2500ms, max_in_flight 64, retry 12 attempts within "
        "24h (backoff 1s to 5m)\n"
        "    robot: topic /v1.0/im/bot/messages/get -> http://h/r\n"
        "      format raw, delivery direct, timeout 2500ms, max_in_flight 64\n"
        "app sales (client_id sales-id, 1 connection):\n"
        "  subscriptions:\n"
        "    CALLBACK /v1.0/im/bot/messages/get\n"
        "  routes (first match wins):\n"
        "    robot: topic /v1.0/im/bot/messages/get -> http://h/s\n"
        "      format raw, delivery direct, timeout 2500ms, max_in_flight 64\n");
}

TEST_CASE("the apps example config loads: two apps", "[config][apps]") {
  FakeEnvironment env;
  env.vars = {{"HR_CLIENT_ID", "ding-hr"}, {"HR_CLIENT_SECRET", "hr-secret"},
              {"HELPDESK_CLIENT_ID", "ding-helpdesk"}, {"HELPDESK_CLIENT_SECRET", "helpdesk-secret"}};
  std::ifstream in(BRIDGE_SOURCE_DIR "/config/apps.example.yaml");
  REQUIRE(in);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  env.files = {{"/etc/dingtalk-stream-bridge/bridge.yaml", text}};
  auto result = load_file("/etc/dingtalk-stream-bridge/bridge.yaml", env);
  for (const auto& error : result.errors) UNSCOPED_INFO(error.to_string());
  REQUIRE(result.errors.empty());
  const Config& c = *result.config;
  REQUIRE(c.apps.size() == 2);
  CHECK(c.apps[0].name == "hr");
  CHECK(c.apps[0].dingtalk.client_id == "ding-hr");
  CHECK(c.apps[0].dingtalk.connections == 2);
  CHECK(c.apps[0].routes.size() == 2);
  CHECK(c.apps[1].name == "helpdesk");
  CHECK(c.apps[1].dingtalk.client_secret == "helpdesk-secret");
  CHECK(c.find_route("hr/approvals").route != nullptr);
  CHECK(c.find_route("helpdesk/robot").route != nullptr);
}
