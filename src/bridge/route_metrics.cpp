#include "bridge/route_metrics.hpp"

namespace dsb::bridge {

RouteSeries& RouteMetrics::of(const std::string& route) {
  auto it = by_route_.find(route);
  if (it != by_route_.end()) return *it->second;
  auto series = std::unique_ptr<RouteSeries>(new RouteSeries{
      registry_.counter("dsb_deliveries_total", {{"route", route}, {"outcome", "ok"}}),
      registry_.counter("dsb_deliveries_total", {{"route", route}, {"outcome", "failed"}}),
      registry_.counter("dsb_duplicates_total", {{"route", route}}),
      registry_.counter("dsb_deliveries_abandoned_total", {{"route", route}}),
      registry_.histogram("dsb_delivery_duration_seconds", {{"route", route}}),
  });
  return *by_route_.emplace(route, std::move(series)).first->second;
}

void RouteMetrics::declare(const std::vector<config::Route>& routes) {
  for (const config::Route& route : routes) of(route.name);
}

}  // namespace dsb::bridge
