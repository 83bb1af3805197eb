// Per-route concurrency: at most `max_in_flight` POSTs of a route run at once; the rest
// wait in FIFO order behind them (product.md section 7).
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <unordered_map>

namespace dsb::bridge {

class RouteLanes {
 public:
  // Starts `start` now if the route has room, else queues it. `start` must eventually
  // lead to exactly one finish(route) call.
  void run(const std::string& route, int max_in_flight, std::function<void()> start);
  // One POST of `route` ended: the next waiting one starts.
  void finish(const std::string& route);

  int in_flight(const std::string& route) const;
  size_t waiting(const std::string& route) const;

 private:
  struct Lane {
    int in_flight = 0;
    int max_in_flight = 1;  // the latest limit given (a reload may change it)
    std::deque<std::function<void()>> waiting;
  };
  std::unordered_map<std::string, Lane> lanes_;
};

}  // namespace dsb::bridge
