#include "store/retry_policy.hpp"

#include <algorithm>
#include <random>

namespace dsb::store {
namespace {

double default_unit_random() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

}  // namespace

RetryPolicy::RetryPolicy(config::Retry retry, std::function<double()> unit_random)
    : retry_(retry),
      unit_random_(unit_random ? std::move(unit_random) : std::function<double()>(
                                                              default_unit_random)) {}

int64_t RetryPolicy::base_delay_ms(int attempts) const {
  const int64_t initial = std::max<int64_t>(1, retry_.backoff.initial.count());
  const int64_t cap = std::max<int64_t>(initial, retry_.backoff.max.count());
  int64_t delay = initial;
  for (int i = 1; i < attempts && delay < cap; ++i) delay *= 2;  // no overflow: stops at cap
  return std::min(delay, cap);
}

bool RetryPolicy::is_permanent_status(int status) {
  return status >= 400 && status <= 499 && status != 408 && status != 425 && status != 429;
}

RetryDecision RetryPolicy::decide(const FailedAnswer& answer, int attempts, int64_t age_ms,
                                  int64_t now_ms) const {
  if (is_permanent_status(answer.status) && !retry_.retry_4xx)
    return {RetryVerdict::permanent, 0};
  const int64_t max_age = retry_.max_age.count();
  if (attempts >= retry_.max_attempts || age_ms >= max_age) return {RetryVerdict::exhausted, 0};
  const int64_t full = base_delay_ms(attempts);
  double r = unit_random_();
  r = std::clamp(r, 0.0, 1.0);
  int64_t delay = full / 2 + static_cast<int64_t>(static_cast<double>(full - full / 2) * r);
  if (answer.retry_after_ms && honours_retry_after(answer.status))
    delay = std::max(delay, *answer.retry_after_ms);  // parse_retry_after clamps: no overflow
  if (age_ms + delay > max_age) return {RetryVerdict::exhausted, 0};
  return {RetryVerdict::retry, now_ms + std::max<int64_t>(1, delay)};
}

}  // namespace dsb::store
