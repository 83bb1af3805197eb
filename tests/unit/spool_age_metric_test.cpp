// dsb_spool_oldest_pending_seconds{app,route}: one series per configured spool route from the
// first update, 0 when nothing is pending, and back to 0 for a route a reload removed.
#include <catch2/catch.hpp>

#include "bridge/spool_age_metric.hpp"

using namespace dsb;

namespace {

config::Route route(const char* name, config::Delivery delivery) {
  config::Route r;
  r.name = name;
  r.delivery = delivery;
  return r;
}

int64_t age_of(metrics::Registry& registry, const std::string& route) {
  return registry.gauge("dsb_spool_oldest_pending_seconds", {{"app", "default"}, {"route", route}}).value();
}

bool has_series(const metrics::Registry& registry, const std::string& route) {
  for (const auto& sample : registry.snapshot()) {
    if (sample.name == "dsb_spool_oldest_pending_seconds" &&
        sample.labels == metrics::Labels{{"app", "default"}, {"route", route}})
      return true;
  }
  return false;
}

}  // namespace

TEST_CASE("spool age: every spool route has a series, at 0 until something waits",
          "[metrics]") {
  metrics::Registry registry;
  bridge::SpoolAgeMetric metric(registry);
  config::Config config;
  config.apps.emplace_back();
  config.apps[0].routes = {route("orders", config::Delivery::spool),
                   route("chat", config::Delivery::direct),
                   route("billing", config::Delivery::spool)};
  metric.update(config, {}, 1'000'000);
  CHECK(has_series(registry, "orders"));
  CHECK(has_series(registry, "billing"));
  CHECK_FALSE(has_series(registry, "chat"));  // direct routes never spool
  CHECK(age_of(registry, "orders") == 0);

  metric.update(config, {{"orders", 1'000'000 - 90'500}}, 1'000'000);
  CHECK(age_of(registry, "orders") == 90);  // whole seconds
  CHECK(age_of(registry, "billing") == 0);

  config.apps[0].routes.erase(config.apps[0].routes.begin());  // a reload drops "orders"
  metric.update(config, {{"orders", 1'000'000 - 90'500}}, 1'000'000);
  CHECK(age_of(registry, "orders") == 0);
}
