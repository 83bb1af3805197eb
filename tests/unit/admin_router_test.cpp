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

