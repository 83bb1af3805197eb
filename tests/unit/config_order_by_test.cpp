// The `order_by` route key (product.md section 10): a dotted path into the frame's data,
// shown by `check`. Its errors are in config_errors_test.cpp's golden table.
#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "fixtures/config/fake_environment.hpp"

using dsb::config::load_string;
using dsb::config::testing::FakeEnvironment;

TEST_CASE("order_by: read as a field path, absent by default, shown by check", "[config][order]") {
  FakeEnvironment env;
  auto result = load_string(
      "dingtalk: {client_id: app, client_secret: shh}\n"
      "routes:\n"
      "  - {name: ai, topic: /v1.0/im/bot/messages/get, url: \"http://h/ai\", "
      "order_by: conversation.id}\n"
      "  - {name: all, event: \"*\", url: \"http://h/all\"}\n",
      "bridge.yaml", env);
  for (const auto& error : result.errors) UNSCOPED_INFO(error.to_string());
  REQUIRE(result.config);
  const auto& routes = result.config->apps[0].routes;
  REQUIRE(routes[0].order_by);
  CHECK(routes[0].order_by->text == "conversation.id");
  CHECK(routes[0].order_by->segments == std::vector<std::string>{"conversation", "id"});
  CHECK_FALSE(routes[1].order_by);
  const std::string out = dsb::config::describe(*result.config);
  CHECK(out.find("max_in_flight 64, ordered by conversation.id\n") != std::string::npos);
  CHECK(out.find("ordered by", out.find("all:")) == std::string::npos);
}
