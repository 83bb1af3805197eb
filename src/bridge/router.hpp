// The routing table: which route, if any, a business frame goes to (product.md sections 3
// and 10). CALLBACK frames match `topic` exactly; EVENT frames match headers.eventType
// against the `event` glob; a route with `match` also needs every named data field to
// match its glob (common/glob.hpp). The first matching route in file order wins.
#pragma once

#include <string_view>
#include <vector>

#include "bridge/frame_data.hpp"
#include "config/config.hpp"
#include "stream/frame.hpp"

namespace dsb::bridge {

class Router {
 public:
  // REQUIRES: `routes` outlives the router (it points into them).
  explicit Router(const std::vector<config::Route>& routes) : routes_(routes) {}

  // nullptr when no route matches (and always for SYSTEM frames). `data` is the frame's
  // data, parsed only if a route with `match` is asked about it, so a caller that needs
  // fields too (order_by) reads the same parse.
  // REQUIRES: `data` views frame.data.
  const config::Route* match(const stream::Frame& frame, FrameData& data) const;
  const config::Route* match(const stream::Frame& frame) const;

  // Whether any route takes CALLBACK `topic` (before its `match`): a callback no route
  // took was then turned away by `match`, which is the operator's table, not a missing route.
  bool has_callback_topic(std::string_view topic) const;

 private:
  const std::vector<config::Route>& routes_;
};

}  // namespace dsb::bridge
