// The `openapi:` mapping of an app (product.md section 13): top-level in the single-app
// form, inside each item of `apps:` otherwise.
#pragma once

#include <map>
#include <string>

#include "config/config.hpp"
#include "config/map_reader.hpp"

namespace dsb::config {

// Where each openapi listen address is used, to refuse two apps (or the admin endpoint)
// on one address: "HOST:PORT" -> what uses it ("app \"a\" (line 7)").
using ListenUses = std::map<std::string, std::string>;

// Reads parent["openapi"] into `out`; `owner` names the app in a clash message.
void read_openapi(Context& ctx, MapReader& parent, const std::string& owner, ListenUses& uses,
                  OpenApi& out);

// Whether `address` is a loopback address (127.0.0.0/8 or ::1).
bool is_loopback(const ListenAddress& address);

}  // namespace dsb::config
