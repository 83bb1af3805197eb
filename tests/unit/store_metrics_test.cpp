// The store metrics (bridge/store_metrics.hpp) for both backends: requests, latency and
// errors by backend and operation.
#include <catch2/catch.hpp>

#include "admin/metrics.hpp"
#include "bridge/store_metrics.hpp"
#include "support/backend_harness.hpp"

using namespace dsb;
using namespace dsb::test;

namespace {

uint64_t count_of(metrics::Registry& registry, const std::string& name, const std::string& backend,
                  const std::string& op) {
  for (const auto& sample : registry.snapshot()) {
    if (sample.name == name &&
        sample.labels == metrics::Labels{{"backend", backend}, {"op", op}})
      return static_cast<uint64_t>(sample.value);
  }
  return 0;
}

uint64_t observations(metrics::Registry& registry, const std::string& backend, const std::string& op) {
  for (const auto& h : registry.histogram_snapshot()) {
    if (h.name == "dsb_store_request_seconds" &&
        h.labels == metrics::Labels{{"backend", backend}, {"op", op}})
      return h.data.count;
  }
  return 0;
}

}  // namespace

TEST_CASE("store metrics: requests, latency and errors by backend and op", "[store][metrics]") {
  BackendHarness harness(GENERATE(as<std::string>{}, "sqlite", "redis"));
  INFO(harness.kind());
  metrics::Registry registry;
  auto backend = harness.open();
  REQUIRE(backend->wait_open());
  bridge::MeteredBackend store(*backend, registry);
  REQUIRE(append_sync(store, spool_entry("m1")));
  REQUIRE(append_sync(store, spool_entry("m2")));
  auto due = due_sync(store, 10'000);
  REQUIRE(due.size() == 2);
  REQUIRE(wait_status([&](auto done) { store.record_success(due[0].id, {1, 200, ""}, done); }));
  CHECK(count_of(registry, "dsb_store_requests_total", harness.kind(), "append") == 2);
  CHECK(observations(registry, harness.kind(), "append") == 2);
  CHECK(count_of(registry, "dsb_store_requests_total", harness.kind(), "due") == 1);
  CHECK(count_of(registry, "dsb_store_requests_total", harness.kind(), "record_success") == 1);
  CHECK(count_of(registry, "dsb_store_errors_total", harness.kind(), "append") == 0);
  CHECK(registry.help("dsb_store_request_seconds").find("by backend and operation") != std::string::npos);

  if (harness.is_redis()) {  // an outage counts as errors
    harness.redis().kill();
    CHECK_FALSE(append_sync(store, spool_entry("m3")));
    CHECK(count_of(registry, "dsb_store_errors_total", "redis", "append") == 1);
  }
}
