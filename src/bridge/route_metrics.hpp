// The per-route series the data path bumps for every frame, looked up in the metrics
// registry (a lock and a map search on label sets) once per route instead of once per
// event. Loop thread only; the series themselves are the registry's and live forever.
//
// Every configured route's series exist from the first scrape (declare()), at zero, so
// rate(), dashboards and absent() alerts see a route before its first frame.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "admin/metrics.hpp"
#include "config/config.hpp"

namespace dsb::bridge {

struct RouteSeries {
  metrics::Counter& delivered;   // dsb_deliveries_total{outcome="ok"}
  metrics::Counter& failed;      // dsb_deliveries_total{outcome="failed"}
  metrics::Counter& duplicates;  // dsb_duplicates_total
  metrics::Counter& abandoned;   // dsb_deliveries_abandoned_total
  metrics::Histogram& latency;   // dsb_delivery_duration_seconds

  // One webhook attempt's outcome and how long it took.
  void record(bool ok, int64_t elapsed_ms) {
    (ok ? delivered : failed).inc();
    latency.observe(static_cast<double>(elapsed_ms) / 1000.0);
  }
};

class RouteMetrics {
 public:
  // REQUIRES: `registry` outlives this object.
  explicit RouteMetrics(metrics::Registry& registry = metrics::global()) : registry_(registry) {}

  // The series of `app`'s route `route` (labels app and route).
  RouteSeries& of(const std::string& app, const std::string& route);

  // Creates every route's series (at zero when new). Call with the config at start and
  // after every reload; series of removed routes stay, as counters must.
  void declare(const config::Config& config);

 private:
  metrics::Registry& registry_;
  std::unordered_map<std::string, std::unique_ptr<RouteSeries>> by_route_;  // by app \x1f route
};

}  // namespace dsb::bridge
