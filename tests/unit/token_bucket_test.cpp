// The rate token bucket, driven by a fake clock (steady milliseconds).
#include <catch2/catch.hpp>

#include <deque>

#include "bridge/token_bucket.hpp"

using dsb::bridge::TokenBucket;
using dsb::config::Rate;
using Millis = std::chrono::milliseconds;

namespace {

// Starts taken at every millisecond of [0, duration) while tokens last.
std::vector<int64_t> greedy_starts(Rate rate, int64_t duration_ms) {
  TokenBucket bucket(rate);
  std::vector<int64_t> starts;
  for (int64_t now = 0; now < duration_ms; ++now) {
    while (bucket.try_take(now)) starts.push_back(now);
  }
  return starts;
}

// The most starts in any half-open window [t, t + width).
size_t max_in_window(const std::vector<int64_t>& starts, int64_t width) {
  size_t most = 0;
  std::deque<int64_t> window;
  for (int64_t at : starts) {
    window.push_back(at);
    while (window.front() <= at - width) window.pop_front();
    most = std::max(most, window.size());
  }
  return most;
}

}  // namespace

TEST_CASE("rate 5/s: one token every 200 ms, the first at once", "[rate]") {
  TokenBucket bucket(Rate{5, Millis{1000}});
  CHECK(bucket.try_take(1000));
  CHECK_FALSE(bucket.try_take(1000));
  CHECK(bucket.next_token_ms() == 1200);
  CHECK_FALSE(bucket.try_take(1199));
  CHECK(bucket.try_take(1200));
  CHECK(bucket.next_token_ms() == 1400);
  // Idle time does not pile up tokens into a burst: one token, then 200 ms again.
  CHECK(bucket.try_take(9000));
  CHECK_FALSE(bucket.try_take(9000));
  CHECK(bucket.next_token_ms() == 9200);
}

TEST_CASE("rate: no window of length `per` holds more than N starts", "[rate]") {
  for (Rate rate : {Rate{5, Millis{1000}}, Rate{3, Millis{1000}}, Rate{7, Millis{60'000}},
                    Rate{1000, Millis{1000}}}) {
    INFO(rate.count << " per " << rate.per.count() << " ms");
    const auto starts = greedy_starts(rate, 3 * rate.per.count());
    CHECK(max_in_window(starts, rate.per.count()) == static_cast<size_t>(rate.count));
    CHECK(starts.size() == static_cast<size_t>(3 * rate.count));  // and no fewer over time
  }
}

TEST_CASE("rate 3/s is exact: 1000/3 ms apart, no rounding drift", "[rate]") {
  const auto starts = greedy_starts(Rate{3, Millis{1000}}, 10'000);
  REQUIRE(starts.size() == 30);
  CHECK(starts[0] == 0);
  CHECK(starts[1] == 334);   // 333.3 rounded up
  CHECK(starts[3] == 1000);  // exactly one second later
  CHECK(starts[29] == 9667);
}

TEST_CASE("rates above one per millisecond hand out a millisecond's tokens together", "[rate]") {
  const auto starts = greedy_starts(Rate{5000, Millis{1000}}, 1000);
  CHECK(starts.size() == 5000);
  CHECK(max_in_window(starts, 1) == 5);
  CHECK(max_in_window(starts, 1000) == 5000);
}
