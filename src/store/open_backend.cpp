#include "store/open_backend.hpp"

#include "store/redis_store.hpp"
#include "store/store.hpp"

namespace dsb::store {

std::unique_ptr<Backend> open_backend(const config::Config& config) {
  const int64_t window_ms = config.limits.dedup_window.count();
  if (config.store.backend == config::StoreBackend::redis) {
    RedisStoreOptions options;
    options.endpoint = config.store.redis;
    options.key_prefix = config.store.key_prefix;
    options.lease_ms = config.store.lease.count();
    options.dedup_window_ms = window_ms;
    return std::make_unique<RedisStore>(std::move(options));
  }
  StoreOptions options;
  options.state_dir = config.state_dir;
  options.dedup_window_ms = window_ms;
  return std::make_unique<Store>(std::move(options));
}

}  // namespace dsb::store
