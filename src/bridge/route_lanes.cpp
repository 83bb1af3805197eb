#include "bridge/route_lanes.hpp"

#include <algorithm>

namespace dsb::bridge {

void RouteLanes::run(const std::string& route, int max_in_flight, std::function<void()> start) {
  Lane& lane = lanes_[route];
  lane.max_in_flight = std::max(1, max_in_flight);
  if (lane.in_flight < lane.max_in_flight) {
    ++lane.in_flight;
    start();
  } else {
    lane.waiting.push_back(std::move(start));
  }
}

void RouteLanes::finish(const std::string& route) {
  auto it = lanes_.find(route);
  if (it == lanes_.end()) return;
  Lane& lane = it->second;
  if (lane.in_flight > 0) --lane.in_flight;
  while (lane.in_flight < lane.max_in_flight && !lane.waiting.empty()) {
    std::function<void()> next = std::move(lane.waiting.front());
    lane.waiting.pop_front();
    ++lane.in_flight;
    next();  // may re-enter run()/finish() for this lane: `lane` stays valid (node map)
  }
}

int RouteLanes::in_flight(const std::string& route) const {
  auto it = lanes_.find(route);
  return it == lanes_.end() ? 0 : it->second.in_flight;
}

size_t RouteLanes::waiting(const std::string& route) const {
  auto it = lanes_.find(route);
  return it == lanes_.end() ? 0 : it->second.waiting.size();
}

}  // namespace dsb::bridge
