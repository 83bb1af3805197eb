#include <catch2/catch.hpp>

#include "store/retry_policy.hpp"

using dsb::store::RetryPolicy;

namespace {

dsb::config::Retry retry(int max_attempts, int64_t max_age_ms, int64_t initial_ms, int64_t max_ms) {
  dsb::config::Retry r;
  r.max_attempts = max_attempts;
  r.max_age = std::chrono::milliseconds(max_age_ms);
  r.backoff.initial = std::chrono::milliseconds(initial_ms);
  r.backoff.max = std::chrono::milliseconds(max_ms);
  return r;
}

}  // namespace

TEST_CASE("retry policy: the base delay doubles from initial and stops at max", "[store][retry]") {
  RetryPolicy policy(retry(100, 86'400'000, 1'000, 300'000));
  CHECK(policy.base_delay_ms(1) == 1'000);
  CHECK(policy.base_delay_ms(2) == 2'000);
  CHECK(policy.base_delay_ms(5) == 16'000);
  CHECK(policy.base_delay_ms(9) == 256'000);
  CHECK(policy.base_delay_ms(10) == 300'000);
  CHECK(policy.base_delay_ms(1'000) == 300'000);  // no overflow for absurd counts
}

TEST_CASE("retry policy: jitter keeps the delay between base/2 and base", "[store][retry]") {
  double r = 0.0;
  RetryPolicy policy(retry(12, 86'400'000, 1'000, 300'000), [&r] { return r; });
  const int64_t now = 1'700'000'000'000;
  r = 0.0;
  CHECK(policy.decide(3, 0, now).retry_at_ms == now + 2'000);
  r = 0.5;
  CHECK(policy.decide(3, 0, now).retry_at_ms == now + 3'000);
  r = 0.999999;
  auto late = policy.decide(3, 0, now);
  CHECK_FALSE(late.dead);
  CHECK(late.retry_at_ms < now + 4'000);
  CHECK(late.retry_at_ms >= now + 3'999);

  RetryPolicy real(retry(12, 86'400'000, 1'000, 300'000));
  for (int i = 0; i < 200; ++i) {
    auto d = real.decide(2, 0, now);
    REQUIRE_FALSE(d.dead);
    CHECK(d.retry_at_ms >= now + 1'000);
    CHECK(d.retry_at_ms < now + 2'000);
  }
}

TEST_CASE("retry policy: dead after max_attempts or beyond max_age", "[store][retry]") {
  RetryPolicy policy(retry(3, 60'000, 1'000, 300'000), [] { return 0.0; });
  const int64_t now = 1'000'000;
  CHECK_FALSE(policy.decide(1, 0, now).dead);
  CHECK_FALSE(policy.decide(2, 0, now).dead);
  CHECK(policy.decide(3, 0, now).dead);  // the third attempt was the last
  CHECK(policy.decide(1, 60'000, now).dead);  // too old already
  // The next attempt would land after max_age: give up now rather than wait for nothing.
  CHECK(policy.decide(2, 59'500, now).dead);
  CHECK_FALSE(policy.decide(2, 58'000, now).dead);
}
