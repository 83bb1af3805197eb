// dsb_spool_oldest_pending_seconds{app,route} (product.md section 11): how long the oldest
// pending (not dead-lettered) spooled delivery of each route has waited, 0 when none. Every
// configured spool route has its series from the first update, so "absent" and "too old"
// alerts work before the first event. The ages come from the store's periodic read
// (Store::oldest_pending), not from the data path. Loop thread only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>

#include "admin/metrics.hpp"
#include "config/config.hpp"

namespace dsb::bridge {

class SpoolAgeMetric {
 public:
  explicit SpoolAgeMetric(metrics::Registry& registry);

  // `oldest_queued_at_ms`: per route (by its spool name, config::qualified_route_name), when its oldest pending delivery was queued (wall
  // ms). A route no longer configured (after a reload) goes back to 0.
  void update(const config::Config& config,
              const std::map<std::string, int64_t>& oldest_queued_at_ms, int64_t now_ms);

 private:
  metrics::Gauge& series(const std::string& app, const std::string& route);

  metrics::Registry& registry_;
  std::unordered_map<std::string, metrics::Gauge*> by_route_;  // by qualified route name
};

}  // namespace dsb::bridge
