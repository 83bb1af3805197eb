// When a spooled delivery is tried again, or given up (product.md section 3 `retry`,
// section 4 `spool`, section 11 permanent failures and Retry-After). Pure: the caller
// passes the clock and the random source, so every decision is reproducible in a test.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "config/config.hpp"

namespace dsb::store {

// What a failed attempt's answer says about trying again.
struct FailedAnswer {
  int status = 0;  // the webhook's HTTP status; 0 when it failed below HTTP
  std::optional<int64_t> retry_after_ms;  // the wait a Retry-After header asked for
};

enum class RetryVerdict {
  retry,      // try again at retry_at_ms
  exhausted,  // max_attempts or max_age reached (or the next attempt would pass max_age)
  permanent,  // the webhook refused the request itself (a 4xx): retrying cannot help
};

struct RetryDecision {
  RetryVerdict verdict = RetryVerdict::retry;
  int64_t retry_at_ms = 0;  // when retrying: the next attempt's time (same clock as `now_ms`)

  bool dead() const { return verdict != RetryVerdict::retry; }
};

class RetryPolicy {
 public:
  // `unit_random` returns a value in [0, 1); the default is a per-thread Mersenne Twister.
  explicit RetryPolicy(config::Retry retry, std::function<double()> unit_random = {});

  // After a failed attempt. `attempts` counts the attempts made so far, this one included
  // (>= 1); `age_ms` is how long the delivery has been queued.
  //   - permanent: an answer 400-499 other than 408 (timeout), 425 (too early) and 429
  //     (too many requests), unless retry.retry_4xx is set;
  //   - exhausted once attempts >= max_attempts, or the delivery is older than max_age, or
  //     the next attempt would fall after max_age;
  //   - else retry after a "full jitter" delay: initial * 2^(attempts-1), capped at max, of
  //     which a random half is kept: delay in [d/2, d). Jitter keeps the retries of many
  //     deliveries that failed together (one webhook outage) from arriving together.
  //     An answer 429 or 503 with Retry-After waits at least that long, capped by
  //     max_age like any delay: a wait that would end past max_age (a long or bogus,
  //     years-ahead Retry-After) is "exhausted" now, as the delivery would be dead-lettered
  //     at max_age anyway; a row parked for nothing helps no one, `spool replay` brings
  //     it back.
  RetryDecision decide(const FailedAnswer& answer, int attempts, int64_t age_ms,
                       int64_t now_ms) const;

  // The delay before the jitter, for the given attempt count (>= 1).
  int64_t base_delay_ms(int attempts) const;

  // A 4xx answer that retrying cannot fix (before retry_4xx is considered).
  static bool is_permanent_status(int status);
  // Statuses whose Retry-After is honoured.
  static bool honours_retry_after(int status) { return status == 429 || status == 503; }

 private:
  config::Retry retry_;
  std::function<double()> unit_random_;
};

}  // namespace dsb::store
