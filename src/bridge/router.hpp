// The routing table: which route, if any, a business frame goes to (product.md section 3).
// CALLBACK frames match `topic` exactly; EVENT frames match headers.eventType against the
// `event` glob; the first matching route in file order wins.
#pragma once

#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "stream/frame.hpp"

namespace dsb::bridge {

// Shell-style glob: `*` matches any run of characters (also none), `?` exactly one; every
// other character matches itself. No character classes: event types are plain identifiers.
bool glob_match(std::string_view pattern, std::string_view text);

class Router {
 public:
  // REQUIRES: `routes` outlives the router (it points into them).
  explicit Router(const std::vector<config::Route>& routes) : routes_(routes) {}

  // nullptr when no route matches (and always for SYSTEM frames).
  const config::Route* match(const stream::Frame& frame) const;

 private:
  const std::vector<config::Route>& routes_;
};

}  // namespace dsb::bridge
