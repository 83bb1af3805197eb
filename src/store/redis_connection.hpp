// One synchronous connection to a Redis server (hiredis), owned by one thread.
//
// - connect() has a timeout, then AUTHs and SELECTs as the endpoint says; every command
//   has a timeout too, so a slow or stuck server turns into an error, never a hang.
// - A failed connect or any I/O error (timeout, reset) drops the connection; ensure()
//   connects again by itself, no sooner than a backoff that doubles from backoff_min to
//   backoff_max while attempts keep failing (reset by a success).
// - Errors are Status values naming the server (host:port) and what failed; the password
//   never appears in one (AUTH's arguments are never echoed).
// - pipeline() sends a list of commands in one write and reads their replies in order: one
//   round trip for a batch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "config/config.hpp"

struct redisContext;

namespace dsb::store {

using RedisCommand = std::vector<std::string>;

// A reply, copied out of hiredis's (RESP2: no doubles, maps or sets).
struct RedisReply {
  enum class Type { nil, integer, string, status, error, array };
  Type type = Type::nil;
  int64_t integer = 0;
  std::string str;  // string, status and error replies
  std::vector<RedisReply> elements;

  bool is_error() const { return type == Type::error; }
  bool is_nil() const { return type == Type::nil; }
  // The integer of an integer reply, or a string reply that holds one; else `fallback`.
  int64_t as_int(int64_t fallback = 0) const;
};

struct RedisConnectionOptions {
  config::RedisEndpoint endpoint;
  int64_t connect_timeout_ms = 2'000;
  int64_t command_timeout_ms = 2'000;
  int64_t backoff_min_ms = 100;
  int64_t backoff_max_ms = 5'000;
};

class RedisConnection {
 public:
  explicit RedisConnection(RedisConnectionOptions options);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Connected: ok. Else connects unless the backoff since the last failure is still
  // running (then the last failure again). `on_connect` hooks (scripts to load) run here.
  Status ensure();
  bool connected() const { return context_ != nullptr; }
  // Steady ms at which ensure() will try again (meaningful while not connected).
  int64_t next_attempt_ms() const { return next_attempt_ms_; }
  // "redis host:port/db", for messages.
  const std::string& where() const { return where_; }
  // The last failure ("" after a success).
  const std::string& last_error() const { return last_error_; }

  // Sends `commands` in one write and reads one reply each, in order. An I/O error or a
  // timeout drops the connection and fails the whole call (some commands may have been
  // applied: callers make their writes safe to repeat). Error REPLIES are not failures:
  // they come back as RedisReply::Type::error.
  Result<std::vector<RedisReply>> pipeline(const std::vector<RedisCommand>& commands);
  // One command.
  Result<RedisReply> command(const RedisCommand& command);

  // Drops the connection (the next ensure() connects again, backoff permitting).
  void drop(const std::string& reason);

 private:
  Status connect();
  Status fail(const std::string& what);

  const RedisConnectionOptions options_;
  const std::string where_;
  redisContext* context_ = nullptr;
  int64_t next_attempt_ms_ = 0;
  int64_t backoff_ms_ = 0;
  std::string last_error_;
};

}  // namespace dsb::store
