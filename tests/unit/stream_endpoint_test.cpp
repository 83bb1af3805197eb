// Building the websocket URL from endpoint + ticket.
#include <catch2/catch.hpp>

#include "stream/endpoint.hpp"

using namespace dsb::stream;

TEST_CASE("url_encode keeps unreserved characters only", "[stream]") {
  CHECK(url_encode("abc-_.~XYZ09") == "abc-_.~XYZ09");
  CHECK(url_encode("a b+c/d=e&f?") == "a%20b%2Bc%2Fd%3De%26f%3F");
  CHECK(url_encode("\xE9") == "%E9");
}

TEST_CASE("wss endpoint gets ?ticket= and defaults to port 443", "[stream]") {
  auto t = ws_target("wss://wss-open-connection.dingtalk.com:443/connect", "a+b/c=");
  REQUIRE(t);
  CHECK(t->tls);
  CHECK(t->host == "wss-open-connection.dingtalk.com");
  CHECK(t->port == 443);
  CHECK(t->path == "/connect?ticket=a%2Bb%2Fc%3D");
  CHECK(t->display == "wss://wss-open-connection.dingtalk.com:443/connect");

  auto no_port = ws_target("wss://gw.example/connect", "t");
  REQUIRE(no_port);
  CHECK(no_port->port == 443);
}

TEST_CASE("an endpoint with a query gets &ticket=, and the display hides the query", "[stream]") {
  auto t = ws_target("ws://127.0.0.1:8080/connect?region=cn", "tk");
  REQUIRE(t);
  CHECK_FALSE(t->tls);
  CHECK(t->port == 8080);
  CHECK(t->path == "/connect?region=cn&ticket=tk");
  CHECK(t->display == "ws://127.0.0.1:8080/connect");
  CHECK(t->display.find("tk") == std::string::npos);
}

TEST_CASE("endpoint without a path and IPv6 literals", "[stream]") {
  auto bare = ws_target("ws://gw.example", "t");
  REQUIRE(bare);
  CHECK(bare->port == 80);
  CHECK(bare->path == "/?ticket=t");
  auto v6 = ws_target("ws://[::1]:9000/connect", "t");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 9000);
  CHECK(v6->display == "ws://[::1]:9000/connect");
}

TEST_CASE("unusable endpoints are errors", "[stream]") {
  CHECK_FALSE(ws_target("https://gw.example/connect", "t"));
  CHECK_FALSE(ws_target("rsocket://gw.example:9000", "t"));
  CHECK_FALSE(ws_target("gw.example/connect", "t"));
  CHECK_FALSE(ws_target("ws://:80/connect", "t"));
  CHECK_FALSE(ws_target("ws://host:99999/connect", "t"));
  CHECK_FALSE(ws_target("ws://host:x/connect", "t"));
}

TEST_CASE("redact_query strips query and fragment", "[stream]") {
  CHECK(redact_query("wss://h/connect?ticket=secret") == "wss://h/connect");
  CHECK(redact_query("wss://h/connect#x") == "wss://h/connect");
  CHECK(redact_query("wss://h/connect") == "wss://h/connect");
}
