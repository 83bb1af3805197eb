#include <catch2/catch.hpp>

#include "store/retry_policy.hpp"

using dsb::store::FailedAnswer;
using dsb::store::RetryPolicy;
using dsb::store::RetryVerdict;

namespace {

const FailedAnswer kServerError{500, std::nullopt};

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
  CHECK(policy.decide(kServerError, 3, 0, now).retry_at_ms == now + 2'000);
  r = 0.5;
  CHECK(policy.decide(kServerError, 3, 0, now).retry_at_ms == now + 3'000);
  r = 0.999999;
  auto late = policy.decide(kServerError, 3, 0, now);
  CHECK_FALSE(late.dead());
  CHECK(late.retry_at_ms < now + 4'000);
  CHECK(late.retry_at_ms >= now + 3'999);

  RetryPolicy real(retry(12, 86'400'000, 1'000, 300'000));
  for (int i = 0; i < 200; ++i) {
    auto d = real.decide(kServerError, 2, 0, now);
    REQUIRE_FALSE(d.dead());
    CHECK(d.retry_at_ms >= now + 1'000);
    CHECK(d.retry_at_ms < now + 2'000);
  }
}

TEST_CASE("retry policy: dead after max_attempts or beyond max_age", "[store][retry]") {
  RetryPolicy policy(retry(3, 60'000, 1'000, 300'000), [] { return 0.0; });
  const int64_t now = 1'000'000;
  CHECK_FALSE(policy.decide(kServerError, 1, 0, now).dead());
  CHECK_FALSE(policy.decide(kServerError, 2, 0, now).dead());
  CHECK(policy.decide(kServerError, 3, 0, now).dead());  // the third attempt was the last
  CHECK(policy.decide(kServerError, 1, 60'000, now).dead());  // too old already
  // The next attempt would land after max_age: give up now rather than wait for nothing.
  CHECK(policy.decide(kServerError, 2, 59'500, now).dead());
  CHECK_FALSE(policy.decide(kServerError, 2, 58'000, now).dead());
}

TEST_CASE("retry policy: a 4xx other than 408, 425 and 429 is permanent", "[store][retry]") {
  RetryPolicy policy(retry(12, 86'400'000, 1'000, 300'000), [] { return 0.0; });
  const int64_t now = 1'700'000'000'000;
  for (int status : {400, 401, 403, 404, 410, 413, 422, 499}) {
    CAPTURE(status);
    CHECK(policy.decide({status, std::nullopt}, 1, 0, now).verdict == RetryVerdict::permanent);
  }
  for (int status : {0, 200, 302, 399, 408, 425, 429, 500, 503}) {
    CAPTURE(status);
    CHECK(policy.decide({status, std::nullopt}, 1, 0, now).verdict == RetryVerdict::retry);
  }
  // Permanent wins over exhausted: the verdict says why the delivery died.
  CHECK(policy.decide({404, std::nullopt}, 12, 0, now).verdict == RetryVerdict::permanent);
  CHECK(policy.decide({500, std::nullopt}, 12, 0, now).verdict == RetryVerdict::exhausted);

  auto keep = retry(12, 86'400'000, 1'000, 300'000);
  keep.retry_4xx = true;
  RetryPolicy lenient(keep, [] { return 0.0; });
  auto d = lenient.decide({404, std::nullopt}, 1, 0, now);
  CHECK(d.verdict == RetryVerdict::retry);
  CHECK(d.retry_at_ms == now + 500);
  CHECK(lenient.decide({404, std::nullopt}, 12, 0, now).verdict == RetryVerdict::exhausted);
}

TEST_CASE("retry policy: Retry-After of a 429 or 503 is a lower bound on the delay",
          "[store][retry]") {
  RetryPolicy policy(retry(12, 3'600'000, 1'000, 300'000), [] { return 0.0; });
  const int64_t now = 1'700'000'000'000;
  // Longer than the backoff: waited for.
  CHECK(policy.decide({429, 120'000}, 1, 0, now).retry_at_ms == now + 120'000);
  CHECK(policy.decide({503, 120'000}, 1, 0, now).retry_at_ms == now + 120'000);
  // Shorter: the backoff stands (attempt 5: base 16 s, jitter 0 keeps half).
  CHECK(policy.decide({503, 1'000}, 5, 0, now).retry_at_ms == now + 8'000);
  CHECK(policy.decide({503, 0}, 1, 0, now).retry_at_ms == now + 500);
  // Other statuses: not honoured.
  CHECK(policy.decide({500, 120'000}, 1, 0, now).retry_at_ms == now + 500);
  CHECK(policy.decide({0, 120'000}, 1, 0, now).retry_at_ms == now + 500);
  // A wait that ends past max_age (1h here) dead-letters now: the delivery would die
  // waiting. Years ahead is the same (capped at max_age, no overflow).
  CHECK(policy.decide({503, 3'000'000}, 1, 600'001, now).verdict == RetryVerdict::exhausted);
  CHECK(policy.decide({503, 3'000'000}, 1, 600'000, now).retry_at_ms == now + 3'000'000);
  CHECK(policy.decide({429, int64_t{10} * 365 * 86'400'000}, 1, 0, now).verdict ==
        RetryVerdict::exhausted);
}
