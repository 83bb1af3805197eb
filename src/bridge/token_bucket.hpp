// `rate: N/s | N/m` (product.md section 11) as a token bucket in the GCRA form: one token
// every per/N, so no window of length `per` sees more than N starts, with no burst beyond
// what the timer resolution needs (rates above one per millisecond get as many tokens per
// millisecond, so a 1 ms timer can keep up; such a window may then hold N + that - 1).
// Pure: time comes in as steady milliseconds, so tests drive it with a fake clock.
#pragma once

#include <cstdint>

#include "config/config.hpp"

namespace dsb::bridge {

class TokenBucket {
 public:
  // REQUIRES: rate.limited(). The bucket starts full.
  explicit TokenBucket(config::Rate rate);

  // Takes a token when one is available at `now_ms`.
  bool try_take(int64_t now_ms);
  // The first millisecond at which try_take() can succeed; <= now_ms when it can now.
  int64_t next_token_ms() const;

  const config::Rate& rate() const { return rate_; }

 private:
  // Times are kept in units of 1/N ms, where a token takes exactly per_ms units: exact for
  // every N (1000/3 ms needs no rounding).
  int64_t units(int64_t ms) const { return ms * rate_.count; }

  config::Rate rate_;
  int64_t interval_;   // per, in units
  int64_t tolerance_;  // (burst - 1) intervals
  int64_t theoretical_arrival_ = INT64_MIN;  // in units; before any take: the bucket is full
};

}  // namespace dsb::bridge
