// Proxy URL parsing and the HTTPS_PROXY fallback.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "stream/proxy.hpp"

using namespace dsb::stream;

TEST_CASE("proxy URL with credentials", "[stream]") {
  auto p = parse_proxy("http://us%40er:p%3Ass@proxy.corp:3128/");
  REQUIRE(p);
  CHECK(p->host == "proxy.corp");
  CHECK(p->port == 3128);
  CHECK(p->username == "us@er");
  CHECK(p->password == "p:ss");
  CHECK(p->curl_url() == "http://proxy.corp:3128");
  CHECK(p->lws_address() == "us@er:p:ss@proxy.corp:3128");
  CHECK(p->display() == "proxy.corp:3128");
}

TEST_CASE("proxy URL without scheme, port or credentials", "[stream]") {
  auto p = parse_proxy("10.1.2.3:8080");
  REQUIRE(p);
  CHECK(p->host == "10.1.2.3");
  CHECK(p->port == 8080);
  CHECK(p->lws_address() == "10.1.2.3:8080");
  auto no_port = parse_proxy("http://proxy");
  REQUIRE(no_port);
  CHECK(no_port->port == 80);
  auto v6 = parse_proxy("http://[::1]:3128");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->display() == "[::1]:3128");
}

TEST_CASE("bad proxy URLs are errors", "[stream]") {
  CHECK_FALSE(parse_proxy("https://proxy:443"));
  CHECK_FALSE(parse_proxy("socks5://proxy:1080"));
  CHECK_FALSE(parse_proxy("http://:3128"));
  CHECK_FALSE(parse_proxy("http://proxy:"));
  CHECK_FALSE(parse_proxy("http://proxy:70000"));
  CHECK_FALSE(parse_proxy("http://proxy:12a"));
  CHECK_FALSE(parse_proxy("http://a%zz:b@proxy:1"));
}

TEST_CASE("configured proxy wins over the environment", "[stream]") {
  std::map<std::string, std::string> env{{"HTTPS_PROXY", "http://env:1"}};
  auto getenv_fn = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  auto configured = resolve_proxy("http://conf:2", getenv_fn);
  REQUIRE(configured);
  REQUIRE(configured.value());
  CHECK(configured.value()->host == "conf");
  CHECK(configured.value()->source == "dingtalk.proxy");

  auto from_env = resolve_proxy("", getenv_fn);
  REQUIRE(from_env);
  REQUIRE(from_env.value());
  CHECK(from_env.value()->host == "env");
  CHECK(from_env.value()->source == "HTTPS_PROXY");

  env = {{"HTTPS_PROXY", ""}, {"https_proxy", "http://lower:3"}, {"http_proxy", "http://plain:4"}};
  auto lower = resolve_proxy("", getenv_fn);
  REQUIRE(lower);
  REQUIRE(lower.value());
  CHECK(lower.value()->host == "lower");
  CHECK(lower.value()->port == 3);

  env = {{"http_proxy", "http://plain:4"}};  // plain-HTTP proxy var is not for wss/https
  auto none = resolve_proxy("", getenv_fn);
  REQUIRE(none);
  CHECK_FALSE(none.value().has_value());

  env = {{"HTTPS_PROXY", "socks5://x:1"}};
  auto bad = resolve_proxy("", getenv_fn);
  REQUIRE_FALSE(bad);
  CHECK(bad.status().message().rfind("HTTPS_PROXY: ", 0) == 0);
}
