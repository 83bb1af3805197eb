// The Retry-After response header (RFC 9110 section 10.2.3): how long a webhook that
// answered 429 or 503 asks to be left alone. Pure: the caller passes the clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace dsb::deliver {

// The wait `value` asks for, in ms from `now_ms` (wall clock): delta-seconds ("120") or an
// HTTP-date in any of the three forms a recipient must accept (IMF-fixdate
// "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT", asctime
// "Sun Nov  6 08:49:37 1994"). A date in the past is 0. nullopt when the value is neither
// (the answer is then treated as if it had no Retry-After). Huge values are clamped to
// kMaxRetryAfterMs, so no arithmetic on the result can overflow; the retry policy caps
// them far lower.
std::optional<int64_t> parse_retry_after(std::string_view value, int64_t now_ms);

inline constexpr int64_t kMaxRetryAfterMs = int64_t{10} * 365 * 86'400'000;  // ten years

}  // namespace dsb::deliver
