#include "bridge/spool_age_metric.hpp"

#include <algorithm>

namespace dsb::bridge {
namespace {

constexpr const char* kName = "dsb_spool_oldest_pending_seconds";

}  // namespace

SpoolAgeMetric::SpoolAgeMetric(metrics::Registry& registry) : registry_(registry) {}

metrics::Gauge& SpoolAgeMetric::series(const std::string& app, const std::string& route) {
  const std::string name = app == config::App::kDefaultAppName ? route : app + "/" + route;
  auto it = by_route_.find(name);
  if (it == by_route_.end())
    it = by_route_.emplace(name, &registry_.gauge(kName, {{"app", app}, {"route", route}})).first;
  return *it->second;
}

void SpoolAgeMetric::update(const config::Config& config,
                            const std::map<std::string, int64_t>& oldest_queued_at_ms,
                            int64_t now_ms) {
  std::unordered_map<std::string, int64_t> seconds;  // per configured spool route
  for (const config::App& app : config.apps) {
    for (const config::Route& route : app.routes) {
      if (route.delivery != config::Delivery::spool) continue;
      const std::string name = config::qualified_route_name(app, route);  // as the spool has it
      const auto oldest = oldest_queued_at_ms.find(name);
      const int64_t age_ms =
          oldest == oldest_queued_at_ms.end() ? 0 : std::max<int64_t>(0, now_ms - oldest->second);
      seconds[name] = age_ms / 1000;
      series(app.name, route.name);
    }
  }
  for (auto& [route, gauge] : by_route_) {
    const auto it = seconds.find(route);
    gauge->set(it == seconds.end() ? 0 : it->second);
  }
}

}  // namespace dsb::bridge
