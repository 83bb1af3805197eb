#include "admin/metrics.hpp"

namespace dsb::metrics {

Counter& Registry::counter(const std::string& name, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = counters_[Key{name, labels}];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Registry::gauge(const std::string& name, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = gauges_[Key{name, labels}];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

std::vector<Registry::Sample> Registry::snapshot() const {
  std::lock_guard lock(mutex_);
  std::vector<Sample> out;
  out.reserve(counters_.size() + gauges_.size());
  for (const auto& [key, c] : counters_) {
    out.push_back({key.first, key.second, true, static_cast<int64_t>(c->value())});
  }
  for (const auto& [key, g] : gauges_) out.push_back({key.first, key.second, false, g->value()});
  return out;
}

Registry& global() {
  static Registry registry;
  return registry;
}

}  // namespace dsb::metrics
