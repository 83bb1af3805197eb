// The Lua scripts that make each step of the Redis store atomic (redis_store.hpp has the
// data layout they keep). Every script takes no KEYS (its keys derive from the prefix in
// ARGV[1]: one Redis server, not a cluster) and reads the server's clock for leases, so
// replicas whose clocks disagree still agree on when a lease lapsed.
#pragma once

#include <array>
#include <string>

namespace dsb::store {

enum class RedisScript {
  append,         // P route dedup_key type headers data created_at has_order order_key url...
  due,            // P now limit lease replica -> flat rows (kDueFields each)
  outcome,        // P id token kind at status error next_at now -> 1 applied, 0 stale
  release,        // P id token
  renew,          // P lease id token ... -> ids no longer ours
  oldest,         // P -> route, queued_at, ...
  claim_dedup,    // P key since lease token -> {0} mine | {1, record} delivered | {2} elsewhere
  remember_dedup, // P key value window
  release_dedup,  // P key token
  renew_dedup,    // P token key lease ...
  replay,         // P id route died_since now -> ids
  purge,          // P id route died_since -> ids
  count
};
inline constexpr int kRedisScriptCount = static_cast<int>(RedisScript::count);

// The source of `script`, helpers included.
const std::string& redis_script_source(RedisScript script);

// Fields per delivery in the due script's reply: id token frame_id route dedup_key type
// headers data url attempts queued_at created_at.
inline constexpr size_t kDueFields = 12;

// A dedup record as the scripts store it: "remembered_at US code US data" (US = 0x1f).
std::string encode_dedup_value(int64_t remembered_at_ms, int code, const std::string& data);
// The record for `key`, or false when `value` is not one.
struct DedupRecord;
bool decode_dedup_value(const std::string& key, const std::string& value, DedupRecord& out);

}  // namespace dsb::store
