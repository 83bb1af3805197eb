#include "bridge/route_lanes.hpp"

#include <algorithm>

namespace dsb::bridge {

RouteLanes::~RouteLanes() {
  for (auto& [name, lane] : lanes_) timers_.cancel(lane.token_timer);
}

void RouteLanes::run(const std::string& lane_name, const config::Route& route,
                     std::function<void()> start) {
  // The map's key, not route.name, is what the token timer may refer to later: a reload
  // frees the route.
  auto& [name, lane] = *lanes_.try_emplace(lane_name).first;
  apply_limits(lane, route);
  lane.waiting.push_back(std::move(start));
  start_waiting(name, lane);
}

void RouteLanes::finish(const std::string& route) {
  auto it = lanes_.find(route);
  if (it == lanes_.end()) return;
  Lane& lane = it->second;
  if (lane.in_flight > 0) --lane.in_flight;
  start_waiting(it->first, lane);
}

void RouteLanes::apply_limits(Lane& lane, const config::Route& route) {
  lane.max_in_flight = std::max(1, route.max_in_flight);
  if (!route.rate.limited()) {
    lane.bucket.reset();
    timers_.cancel(lane.token_timer);
    lane.token_timer = 0;
    return;
  }
  const bool same = lane.bucket && lane.bucket->rate().count == route.rate.count &&
                    lane.bucket->rate().per == route.rate.per;
  if (!same) lane.bucket.emplace(route.rate);
}

void RouteLanes::start_waiting(const std::string& name, Lane& lane) {
  while (lane.in_flight < lane.max_in_flight && !lane.waiting.empty()) {
    if (lane.bucket && !lane.bucket->try_take(timers_.now_ms())) {
      if (lane.token_timer == 0) {
        const int64_t wait = std::max<int64_t>(1, lane.bucket->next_token_ms() - timers_.now_ms());
        lane.token_timer = timers_.after(std::chrono::milliseconds(wait), [this, &name, &lane] {
          lane.token_timer = 0;
          start_waiting(name, lane);
        });
      }
      return;
    }
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
