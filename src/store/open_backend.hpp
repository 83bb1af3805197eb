// The store backend `store.backend` names, built from the config (product.md section 12).
#pragma once

#include <memory>

#include "config/config.hpp"
#include "store/backend.hpp"

namespace dsb::store {

// sqlite: a Store on state_dir; redis: a RedisStore on store.url. Never fails: each backend
// opens (or keeps trying) on its own thread; wait_open() tells how the first attempt went.
std::unique_ptr<Backend> open_backend(const config::Config& config);

}  // namespace dsb::store
