// The admin routes without a socket: /healthz, /readyz from a Readiness, /metrics, and the
// admin.listen address parser.
#include <catch2/catch.hpp>

#include "admin/admin_server.hpp"
#include "admin/prometheus.hpp"

using namespace dsb;

namespace {

class FixedReadiness : public admin::Readiness {
 public:
  std::vector<std::string> reasons;
  std::string store;
  std::vector<std::string> not_ready_reasons() const override { return reasons; }
  std::string store_problem() const override { return store; }
};

httpd::Response get(const httpd::Router& router, const std::string& path, const char* method = "GET") {
  httpd::Request request;
  request.method = method;
  request.path = path;
  return router.dispatch(request);
}

}  // namespace

TEST_CASE("admin routes: healthz, readyz in both states, metrics, 404 and 405", "[admin]") {
  FixedReadiness readiness;
  metrics::Registry registry;
  registry.counter("dsb_reconnects_total").inc(3);
  httpd::Router router = admin::make_router(readiness, registry);

  auto health = get(router, "/healthz");
  CHECK(health.status == 200);
  CHECK(health.body == "ok\n");

  auto ready = get(router, "/readyz");
  CHECK(ready.status == 200);
  CHECK(ready.body == "ready\n");

  readiness.reasons = {"no Stream connection registered", "store not writable"};
  auto not_ready = get(router, "/readyz");
  CHECK(not_ready.status == 503);
  CHECK(not_ready.content_type.rfind("text/plain", 0) == 0);
  CHECK(not_ready.body == "no Stream connection registered\nstore not writable\n");

  auto scrape = get(router, "/metrics");
  CHECK(scrape.status == 200);
  CHECK(scrape.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(scrape.body == metrics::render_prometheus(registry));
  CHECK(scrape.body.find("\ndsb_reconnects_total 3\n") != std::string::npos);

  CHECK(get(router, "/healthz", "HEAD").status == 200);  // the router answers HEAD as GET
  CHECK(get(router, "/nope").status == 404);
  CHECK(get(router, "/healthz/").status == 404);
  auto post = get(router, "/metrics", "POST");
  CHECK(post.status == 405);
  REQUIRE(post.headers.size() == 1);
  CHECK(post.headers[0] == std::pair<std::string, std::string>{"Allow", "GET"});
}

TEST_CASE("admin routes: /healthz/store follows the store alone, /healthz stays 200", "[admin]") {
  FixedReadiness readiness;
  metrics::Registry registry;
  httpd::Router router = admin::make_router(readiness, registry);
  readiness.reasons = {"no Stream connection registered"};  // not the store's business

  auto writable = get(router, "/healthz/store");
  CHECK(writable.status == 200);
  CHECK(writable.body == "ok\n");

  readiness.store = "store not writable: disk full";
  auto unwritable = get(router, "/healthz/store");
  CHECK(unwritable.status == 503);
  CHECK(unwritable.content_type.rfind("text/plain", 0) == 0);
  CHECK(unwritable.body == "store not writable: disk full\n");
  CHECK(get(router, "/healthz/store", "HEAD").status == 503);
  CHECK(get(router, "/healthz").status == 200);
}

TEST_CASE("admin.listen accepts IPv4, bracketed IPv6 and localhost with a port", "[admin]") {
  auto v4 = admin::parse_listen("127.0.0.1:9180");
  REQUIRE(v4.is_ok());
  CHECK(v4->host == "127.0.0.1");
  CHECK(v4->port == 9180);
  CHECK_FALSE(v4->ipv6);

  auto any = admin::parse_listen("0.0.0.0:0");
  REQUIRE(any.is_ok());
  CHECK(any->port == 0);

  auto v6 = admin::parse_listen("[::1]:65535");
  REQUIRE(v6.is_ok());
  CHECK(v6->host == "::1");
  CHECK(v6->ipv6);

  auto local = admin::parse_listen("localhost:80");
  REQUIRE(local.is_ok());
  CHECK(local->host == "127.0.0.1");
}

TEST_CASE("admin.listen errors name the problem and the value", "[admin]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"9180", "admin.listen: expected HOST:PORT, got \"9180\""},
      {"127.0.0.1:", "admin.listen: port must be a number from 0 to 65535, got \"\" in \"127.0.0.1:\""},
      {"127.0.0.1:65536", "admin.listen: port must be a number from 0 to 65535, got \"65536\" in \"127.0.0.1:65536\""},
      {"127.0.0.1:-1", "admin.listen: port must be a number from 0 to 65535, got \"-1\" in \"127.0.0.1:-1\""},
      {"127.0.0.1:80x", "admin.listen: port must be a number from 0 to 65535, got \"80x\" in \"127.0.0.1:80x\""},
      {":9180", "admin.listen: host must be an IPv4 address, [IPv6 address] or localhost, got \"\" in \":9180\""},
      {"example.com:9180", "admin.listen: host must be an IPv4 address, [IPv6 address] or localhost, got \"example.com\" in \"example.com:9180\""},
      {"::1:9180", "admin.listen: host must be an IPv4 address, [IPv6 address] or localhost, got \"::1\" in \"::1:9180\""},
      {"[nope]:9180", "admin.listen: \"nope\" is not an IPv6 address"},
      {"127.0.0.256:1", "admin.listen: host must be an IPv4 address, [IPv6 address] or localhost, got \"127.0.0.256\" in \"127.0.0.256:1\""},
  };
  for (const auto& [listen, message] : cases) {
    INFO(listen);
    auto parsed = admin::parse_listen(listen);
    REQUIRE_FALSE(parsed.is_ok());
    CHECK(parsed.status().message() == message);
  }
}
