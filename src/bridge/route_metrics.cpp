#include "bridge/route_metrics.hpp"

namespace dsb::bridge {

RouteSeries& RouteMetrics::of(const std::string& route) {
  auto it = by_route_.find(route);
  if (it != by_route_.end()) return *it->second;
  metrics::Registry& registry = metrics::global();
  auto series = std::unique_ptr<RouteSeries>(new RouteSeries{
      registry.counter("dsb_deliveries_total", {{"route", route}, {"outcome", "ok"}}),
      registry.counter("dsb_deliveries_total", {{"route", route}, {"outcome", "failed"}}),
      registry.counter("dsb_duplicates_total", {{"route", route}}),
      registry.histogram("dsb_delivery_duration_seconds", {{"route", route}}),
  });
  return *by_route_.emplace(route, std::move(series)).first->second;
}

}  // namespace dsb::bridge
