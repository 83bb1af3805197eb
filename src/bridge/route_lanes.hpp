// Each route's queue of POSTs waiting to start (product.md sections 7 and 11). A POST starts
// when the route has fewer than `max_in_flight` running and, with `rate`, a token; the rest
// wait in FIFO order. Direct and spooled deliveries share the route's lane.
//
// Waiting for a token costs one timer per route, set for the moment the next token is due:
// nothing wakes up in between. Single-threaded: the bridge's thread.
#pragma once

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>

#include "bridge/ports.hpp"
#include "bridge/token_bucket.hpp"
#include "config/config.hpp"

namespace dsb::bridge {

class RouteLanes {
 public:
  explicit RouteLanes(Timers& timers) : timers_(timers) {}
  ~RouteLanes();
  RouteLanes(const RouteLanes&) = delete;
  RouteLanes& operator=(const RouteLanes&) = delete;

  // Starts `start` now if the route has room and a token, else queues it. `start` must
  // eventually lead to exactly one finish(route.name) call. The route's limits as given
  // here apply from now on (a reload may change them).
  void run(const config::Route& route, std::function<void()> start) { run(route.name, route, start); }
  // The same for a lane named `lane` (qualified_route_name: two apps' routes of one name
  // have a lane each); finish(lane) ends its POSTs.
  void run(const std::string& lane, const config::Route& route, std::function<void()> start);
  // One POST of `route` ended: the next waiting ones start, as far as the limits allow.
  void finish(const std::string& route);

  int in_flight(const std::string& route) const;
  size_t waiting(const std::string& route) const;

 private:
  struct Lane {
    int in_flight = 0;
    int max_in_flight = 1;
    std::optional<TokenBucket> bucket;  // none: no `rate`
    TimerId token_timer = 0;            // set while the head of `waiting` waits for a token
    std::deque<std::function<void()>> waiting;
  };

  void apply_limits(Lane& lane, const config::Route& route);
  // Starts waiting POSTs while the limits allow; arms the token timer when only the rate
  // holds the head back. `name` is the lane's key in lanes_.
  void start_waiting(const std::string& name, Lane& lane);

  Timers& timers_;
  std::unordered_map<std::string, Lane> lanes_;  // node-based: a Lane& survives inserts
};

}  // namespace dsb::bridge
