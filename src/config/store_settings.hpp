// The `store:` section (product.md section 12): which backend keeps the spool and the dedup
// records, and for Redis where it is (`url` or `url_file`: the URL may carry the password).
#pragma once

#include <string>
#include <string_view>

#include "common/status.hpp"
#include "config/config.hpp"
#include "config/map_reader.hpp"

namespace dsb::config {

// Reads root["store"] into `out`; absent: the defaults (sqlite).
void read_store(MapReader& root, StoreSettings& out);

// redis://[:password@]host[:port][/db] -> the endpoint (port 6379, db 0 by default). The
// problem is phrased to follow "store.url: " and never contains the password.
Result<RedisEndpoint> parse_redis_url(std::string_view url);

// The URL with its password masked ("redis://:***@host:6379/0"), for `check` and logs.
std::string redact_redis_url(std::string_view url);

// One line for `check`: the backend and, for Redis, where (redacted), prefix and lease.
std::string describe_store(const StoreSettings& store, const std::string& state_dir);

}  // namespace dsb::config
