// The `routes:` list: each route checked on its own (keys, types, per-format legacy
// settings) and against the others (unique names), with unset values taken from `defaults`.
#pragma once

#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/map_reader.hpp"

namespace dsb::config {

// Reads root["routes"] into `out`. An absent or empty list is an error: with no route every
// frame would be ACKed and dropped, which is never what an operator wants. `root` is the
// top level, or one item of `apps:` (then `app` is its name, and messages name it too).
void read_routes(Context& ctx, MapReader& root, const Defaults& defaults, std::vector<Route>& out,
                 std::string_view app = "");

}  // namespace dsb::config
