// Retry-After (RFC 9110 section 10.2.3): delta-seconds and the three HTTP-date forms.
#include <catch2/catch.hpp>

#include "deliver/retry_after.hpp"

using dsb::deliver::kMaxRetryAfterMs;
using dsb::deliver::parse_retry_after;

namespace {

// Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's example date.
constexpr int64_t kExampleDate = 784'111'777'000;

}  // namespace

TEST_CASE("Retry-After: delta-seconds", "[deliver][retry-after]") {
  CHECK(parse_retry_after("120", 0) == 120'000);
  CHECK(parse_retry_after("0", 0) == 0);
  CHECK(parse_retry_after("  5\t", 0) == 5'000);  // optional whitespace around the value
  CHECK(parse_retry_after("99999999999999999999999", 0) == kMaxRetryAfterMs);
  CHECK(parse_retry_after("-5", 0) == std::nullopt);
  CHECK(parse_retry_after("1.5", 0) == std::nullopt);
  CHECK(parse_retry_after("5s", 0) == std::nullopt);
  CHECK(parse_retry_after("", 0) == std::nullopt);
}

TEST_CASE("Retry-After: an HTTP-date in each form a recipient must accept",
          "[deliver][retry-after]") {
  const int64_t now = kExampleDate - 30'000;
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now) == 30'000);
  CHECK(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now) == 30'000);
  CHECK(parse_retry_after("Sun Nov  6 08:49:37 1994", now) == 30'000);
  // A date already past: no wait (the backoff still applies).
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", kExampleDate + 5'000) == 0);
  // The date's milliseconds from a now that is not on a whole second.
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now + 250) == 29'750);
  CHECK(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now) == kMaxRetryAfterMs);
}

TEST_CASE("Retry-After: anything else is no Retry-After", "[deliver][retry-after]") {
  CHECK(parse_retry_after("soon", 0) == std::nullopt);
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37", 0) == std::nullopt);  // no GMT
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT trailing", 0) == std::nullopt);
  CHECK(parse_retry_after("Sun, 32 Nov 1994 08:49:37 GMT", 0) == std::nullopt);
}
