#include "store/redis_scripts.hpp"

#include <cstdlib>

#include "store/spool_types.hpp"

namespace dsb::store {
namespace {

// Shared by every script. Keys (P = the key prefix):
//   P d:ID  P f:FID  P h:ID  P o:ROUTE US URL US KEY  P due  P claims  P pending
//   P queued:ROUTE  P routes  P dead  P dd:KEY  P dm:KEY  P seq:*
const char* const kHelpers = R"LUA(
local P = ARGV[1]
local US = '\31'
local FIRST, LAST = @FIRST@, @LAST@
local function server_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function dkey(id) return P .. 'd:' .. id end
-- The head of an order list is due (at its next attempt) when pending and not claimed; the
-- rest of the list waits behind it, outside P due.
local function promote(okey)
  local head = redis.call('LINDEX', okey, 0)
  if not head then return end
  local h = redis.call('HMGET', dkey(head), 'state', 'token', 'next_at')
  if h[1] == 'pending' and not h[2] then redis.call('ZADD', P .. 'due', h[3], head) end
end
-- Back in the due set once unclaimed: directly, or through its order list's head.
local function requeue(id, next_at, okey)
  if okey and okey ~= '' then promote(okey) else redis.call('ZADD', P .. 'due', next_at, id) end
end
-- A delivery stops being pending (delivered, dead).
local function unpend(id, route, okey)
  redis.call('ZREM', P .. 'pending', id)
  redis.call('ZREM', P .. 'queued:' .. route, id)
  redis.call('ZREM', P .. 'due', id)
  if okey and okey ~= '' then
    redis.call('LREM', okey, 1, id)
    promote(okey)
  end
end
-- A delivery is gone (delivered, purged): its frame goes with the last one.
local function unref(fid)
  if redis.call('HINCRBY', P .. 'f:' .. fid, 'refs', -1) <= 0 then
    redis.call('DEL', P .. 'f:' .. fid)
  end
end
local function add_history(id, entry)
  local hk = P .. 'h:' .. id
  if redis.call('RPUSH', hk, entry) > FIRST + LAST then
    redis.call('LSET', hk, FIRST, '\0')
    redis.call('LREM', hk, 1, '\0')
  end
end
)LUA";

const char* const kAppend = R"LUA(
local route, created, n = ARGV[2], ARGV[7], #ARGV - 9
if n <= 0 then return 0 end
local fid = redis.call('INCR', P .. 'seq:frame')
redis.call('HSET', P .. 'f:' .. fid, 'route', route, 'dedup_key', ARGV[3], 'type', ARGV[4],
           'headers', ARGV[5], 'data', ARGV[6], 'created_at', created, 'refs', n)
redis.call('SADD', P .. 'routes', route)
for i = 10, #ARGV do
  local id = redis.call('INCR', P .. 'seq:delivery')
  local okey = ''
  if ARGV[8] == '1' then okey = P .. 'o:' .. route .. US .. ARGV[i] .. US .. ARGV[9] end
  redis.call('HSET', dkey(id), 'f', fid, 'url', ARGV[i], 'route', route, 'state', 'pending',
             'attempts', 0, 'queued_at', created, 'next_at', created, 'updated_at', created,
             'error', '', 'okey', okey)
  redis.call('ZADD', P .. 'pending', id, id)
  redis.call('ZADD', P .. 'queued:' .. route, created, id)
  if okey ~= '' then redis.call('RPUSH', okey, id) end
  requeue(id, created, okey)
end
return fid
)LUA";

const char* const kDue = R"LUA(
local now, limit, lease, replica = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local t = server_ms()
-- Lapsed claims first: their holder died or lost Redis for longer than the lease.
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'claims', '-inf', t)) do
  redis.call('ZREM', P .. 'claims', id)
  redis.call('HDEL', dkey(id), 'token')
  local h = redis.call('HMGET', dkey(id), 'state', 'next_at', 'okey')
  if h[1] == 'pending' then requeue(id, h[2], h[3]) end
end
local out = {}
if limit <= 0 then return out end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'due', '-inf', now, 'LIMIT', 0, limit)) do
  redis.call('ZREM', P .. 'due', id)
  local d = redis.call('HMGET', dkey(id), 'state', 'f', 'url', 'attempts', 'queued_at')
  if d[1] == 'pending' then
    local f = redis.call('HMGET', P .. 'f:' .. d[2], 'route', 'dedup_key', 'type', 'headers',
                         'data', 'created_at')
    if f[1] then
      local token = replica .. ':' .. redis.call('INCR', P .. 'seq:claim')
      redis.call('HSET', dkey(id), 'token', token)
      redis.call('ZADD', P .. 'claims', t + lease, id)
      for _, v in ipairs({id, token, d[2], f[1], f[2], f[3], f[4], f[5], d[3], d[4], d[5], f[6]}) do
        out[#out + 1] = v
      end
    end
  end
end
return out
)LUA";

const char* const kOutcome = R"LUA(
local id, token, kind = ARGV[2], ARGV[3], ARGV[4]
local k = dkey(id)
local h = redis.call('HMGET', k, 'state', 'token', 'f', 'route', 'okey', 'attempts')
-- Not ours any more (the lease lapsed and another replica took it) or already decided.
if h[1] ~= 'pending' or h[2] ~= token then return 0 end
redis.call('ZREM', P .. 'claims', id)
redis.call('HDEL', k, 'token')
local attempts = tonumber(h[6]) + 1
if kind == 'delivered' then
  unpend(id, h[4], h[5])
  redis.call('DEL', k, P .. 'h:' .. id)
  unref(h[3])
  return 1
end
add_history(id, attempts .. US .. ARGV[5] .. US .. kind .. US .. ARGV[6] .. US .. ARGV[7])
if kind == 'retry' then
  redis.call('HSET', k, 'attempts', attempts, 'error', ARGV[7], 'next_at', ARGV[8],
             'updated_at', ARGV[9])
  requeue(id, ARGV[8], h[5])
else
  redis.call('HSET', k, 'state', 'dead', 'attempts', attempts, 'error', ARGV[7],
             'updated_at', ARGV[9])
  unpend(id, h[4], h[5])
  redis.call('ZADD', P .. 'dead', ARGV[9], id)
end
return 1
)LUA";

const char* const kRelease = R"LUA(
local id, token = ARGV[2], ARGV[3]
local h = redis.call('HMGET', dkey(id), 'state', 'token', 'next_at', 'okey')
if h[2] ~= token then return 0 end
redis.call('ZREM', P .. 'claims', id)
redis.call('HDEL', dkey(id), 'token')
if h[1] == 'pending' then requeue(id, h[3], h[4]) end
return 1
)LUA";

const char* const kRenew = R"LUA(
local t = server_ms() + tonumber(ARGV[2])
local lost = {}
for i = 3, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  if redis.call('HGET', dkey(id), 'token') == token then
    redis.call('ZADD', P .. 'claims', 'XX', t, id)
  else
    lost[#lost + 1] = id
  end
end
return lost
)LUA";

const char* const kOldest = R"LUA(
local out = {redis.call('ZCARD', P .. 'pending'), redis.call('ZCARD', P .. 'dead')}
for _, route in ipairs(redis.call('SMEMBERS', P .. 'routes')) do
  local first = redis.call('ZRANGE', P .. 'queued:' .. route, 0, 0, 'WITHSCORES')
  if first[1] then
    out[#out + 1] = route
    out[#out + 1] = first[2]
  else
    redis.call('SREM', P .. 'routes', route)
  end
end
return out
)LUA";

const char* const kClaimDedup = R"LUA(
local rec = redis.call('GET', P .. 'dd:' .. ARGV[2])
if rec then
  local at = tonumber(string.match(rec, '^(%d+)'))
  if at and at >= tonumber(ARGV[3]) then return {1, rec} end
end
if redis.call('SET', P .. 'dm:' .. ARGV[2], ARGV[5], 'NX', 'PX', ARGV[4]) then return {0} end
return {2}
)LUA";

const char* const kRememberDedup = R"LUA(
redis.call('SET', P .. 'dd:' .. ARGV[2], ARGV[3], 'PX', ARGV[4])
redis.call('DEL', P .. 'dm:' .. ARGV[2])
return 1
)LUA";

const char* const kReleaseDedup = R"LUA(
if redis.call('GET', P .. 'dm:' .. ARGV[2]) == ARGV[3] then
  redis.call('DEL', P .. 'dm:' .. ARGV[2])
  return 1
end
return 0
)LUA";

const char* const kRenewDedup = R"LUA(
for i = 3, #ARGV, 2 do
  local marker = P .. 'dm:' .. ARGV[i]
  if redis.call('GET', marker) == ARGV[2] then redis.call('PEXPIRE', marker, ARGV[i + 1]) end
end
return 1
)LUA";

const char* const kReplay = R"LUA(
local sel_id, sel_route, since, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local out = {}
local function insert_ordered(okey, id)
  for _, other in ipairs(redis.call('LRANGE', okey, 0, -1)) do
    if tonumber(other) > tonumber(id) then
      redis.call('LINSERT', okey, 'BEFORE', other, id)
      return
    end
  end
  redis.call('RPUSH', okey, id)
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'dead', since, '+inf')) do
  if sel_id == '0' or sel_id == id then
    local k = dkey(id)
    local h = redis.call('HMGET', k, 'route', 'okey', 'state')
    if h[3] ~= 'dead' then
      redis.call('ZREM', P .. 'dead', id)
    elseif sel_route == '' or sel_route == h[1] then
      redis.call('ZREM', P .. 'dead', id)
      redis.call('HSET', k, 'state', 'pending', 'attempts', 0, 'queued_at', now, 'next_at', now,
                 'updated_at', now)
      redis.call('ZADD', P .. 'pending', id, id)
      redis.call('ZADD', P .. 'queued:' .. h[1], now, id)
      redis.call('SADD', P .. 'routes', h[1])
      if h[2] and h[2] ~= '' then
        local old = redis.call('LINDEX', h[2], 0)
        insert_ordered(h[2], id)
        if old and old ~= redis.call('LINDEX', h[2], 0) then redis.call('ZREM', P .. 'due', old) end
      end
      requeue(id, now, h[2])
      out[#out + 1] = id
    end
  end
end
return out
)LUA";

const char* const kPurge = R"LUA(
local sel_id, sel_route, since = ARGV[2], ARGV[3], ARGV[4]
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'dead', since, '+inf')) do
  if sel_id == '0' or sel_id == id then
    local k = dkey(id)
    local h = redis.call('HMGET', k, 'route', 'f', 'state')
    if h[3] ~= 'dead' then
      redis.call('ZREM', P .. 'dead', id)
    elseif sel_route == '' or sel_route == h[1] then
      redis.call('ZREM', P .. 'dead', id)
      redis.call('DEL', k, P .. 'h:' .. id)
      unref(h[2])
      out[#out + 1] = id
    end
  end
end
return out
)LUA";

std::string with_helpers(const char* body) {
  std::string helpers = kHelpers;
  const auto put = [&helpers](const std::string& name, int value) {
    helpers.replace(helpers.find(name), name.size(), std::to_string(value));
  };
  put("@FIRST@", kFirstAttemptsKept);
  put("@LAST@", kLastAttemptsKept);
  return helpers + body;
}

}  // namespace

const std::string& redis_script_source(RedisScript script) {
  static const std::array<std::string, kRedisScriptCount> sources = {
      with_helpers(kAppend),       with_helpers(kDue),         with_helpers(kOutcome),
      with_helpers(kRelease),      with_helpers(kRenew),       with_helpers(kOldest),
      with_helpers(kClaimDedup),   with_helpers(kRememberDedup), with_helpers(kReleaseDedup),
      with_helpers(kRenewDedup),   with_helpers(kReplay),      with_helpers(kPurge)};
  return sources[static_cast<size_t>(script)];
}

std::string encode_dedup_value(int64_t remembered_at_ms, int code, const std::string& data) {
  return std::to_string(remembered_at_ms) + '\x1f' + std::to_string(code) + '\x1f' + data;
}

bool decode_dedup_value(const std::string& key, const std::string& value, DedupRecord& out) {
  const size_t first = value.find('\x1f');
  if (first == std::string::npos) return false;
  const size_t second = value.find('\x1f', first + 1);
  if (second == std::string::npos) return false;
  out.key = key;
  out.remembered_at_ms = std::strtoll(value.c_str(), nullptr, 10);
  out.code = static_cast<int>(std::strtol(value.c_str() + first + 1, nullptr, 10));
  out.data = value.substr(second + 1);
  return true;
}

}  // namespace dsb::store
