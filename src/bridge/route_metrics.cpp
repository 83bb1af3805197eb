#include "bridge/route_metrics.hpp"

namespace dsb::bridge {

RouteSeries& RouteMetrics::of(const std::string& app, const std::string& route) {
  std::string key = app + '\x1f' + route;
  auto it = by_route_.find(key);
  if (it != by_route_.end()) return *it->second;
  auto series = std::unique_ptr<RouteSeries>(new RouteSeries{
      registry_.counter("dsb_deliveries_total", {{"app", app}, {"route", route}, {"outcome", "ok"}}),
      registry_.counter("dsb_deliveries_total", {{"app", app}, {"route", route}, {"outcome", "failed"}}),
      registry_.counter("dsb_duplicates_total", {{"app", app}, {"route", route}}),
      registry_.counter("dsb_deliveries_abandoned_total", {{"app", app}, {"route", route}}),
      registry_.histogram("dsb_delivery_duration_seconds", {{"app", app}, {"route", route}}),
  });
  return *by_route_.emplace(std::move(key), std::move(series)).first->second;
}

void RouteMetrics::declare(const config::Config& config) {
  for (const config::App& app : config.apps) {
    for (const config::Route& route : app.routes) of(app.name, route.name);
  }
}

}  // namespace dsb::bridge
