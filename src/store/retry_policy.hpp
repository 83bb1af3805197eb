// When a spooled delivery is tried again, or given up (product.md section 3 `retry`,
// section 4 `spool`). Pure: the caller passes the clock and the random source, so every
// decision is reproducible in a test.
#pragma once

#include <cstdint>
#include <functional>

#include "config/config.hpp"

namespace dsb::store {

struct RetryDecision {
  bool dead = false;        // give up: dead-letter the delivery
  int64_t retry_at_ms = 0;  // when !dead: the next attempt's time (same clock as `now_ms`)
};

class RetryPolicy {
 public:
  // `unit_random` returns a value in [0, 1); the default is a per-thread Mersenne Twister.
  explicit RetryPolicy(config::Retry retry, std::function<double()> unit_random = {});

  // After a failed attempt. `attempts` counts the attempts made so far, this one included
  // (>= 1); `age_ms` is how long the delivery has been queued.
  //   - dead once attempts >= max_attempts, or the delivery is older than max_age, or the
  //     next attempt would fall after max_age;
  //   - else retry after a "full jitter" delay: initial * 2^(attempts-1), capped at max, of
  //     which a random half is kept: delay in [d/2, d). Jitter keeps the retries of many
  //     deliveries that failed together (one webhook outage) from arriving together.
  RetryDecision decide(int attempts, int64_t age_ms, int64_t now_ms) const;

  // The delay before the jitter, for the given attempt count (>= 1).
  int64_t base_delay_ms(int attempts) const;

 private:
  config::Retry retry_;
  std::function<double()> unit_random_;
};

}  // namespace dsb::store
