// The per-route series the data path bumps for every frame, looked up in the metrics
// registry (a lock and a map search on label sets) once per route instead of once per
// event. Loop thread only; the series themselves are the registry's and live forever.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "admin/metrics.hpp"

namespace dsb::bridge {

struct RouteSeries {
  metrics::Counter& delivered;   // dsb_deliveries_total{outcome="ok"}
  metrics::Counter& failed;      // dsb_deliveries_total{outcome="failed"}
  metrics::Counter& duplicates;  // dsb_duplicates_total
  metrics::Histogram& latency;   // dsb_delivery_duration_seconds

  // One webhook attempt's outcome and how long it took.
  void record(bool ok, int64_t elapsed_ms) {
    (ok ? delivered : failed).inc();
    latency.observe(static_cast<double>(elapsed_ms) / 1000.0);
  }
};

class RouteMetrics {
 public:
  RouteSeries& of(const std::string& route);

 private:
  std::unordered_map<std::string, std::unique_ptr<RouteSeries>> by_route_;
};

}  // namespace dsb::bridge
