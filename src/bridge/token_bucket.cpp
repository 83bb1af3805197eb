#include "bridge/token_bucket.hpp"

#include <algorithm>

namespace dsb::bridge {

TokenBucket::TokenBucket(config::Rate rate) : rate_(rate) {
  const int64_t per_ms = rate_.per.count();
  interval_ = per_ms;
  // Tokens that fall due within one millisecond are handed out together.
  const int64_t burst = std::max<int64_t>(1, (rate_.count + per_ms - 1) / per_ms);
  tolerance_ = (burst - 1) * interval_;
}

bool TokenBucket::try_take(int64_t now_ms) {
  const int64_t now = units(now_ms);
  if (theoretical_arrival_ != INT64_MIN && now < theoretical_arrival_ - tolerance_) return false;
  // A take within a millisecond of its token's due time keeps to the grid of due times:
  // `now` has millisecond resolution and the grid does not (3/s would drift to 2.99/s).
  const bool on_grid = theoretical_arrival_ != INT64_MIN && now < theoretical_arrival_ + units(1);
  theoretical_arrival_ = (on_grid ? theoretical_arrival_ : now) + interval_;
  return true;
}

int64_t TokenBucket::next_token_ms() const {
  if (theoretical_arrival_ == INT64_MIN) return INT64_MIN;
  const int64_t due = theoretical_arrival_ - tolerance_;
  // Rounded up: at the returned millisecond the token is there.
  return due >= 0 ? (due + rate_.count - 1) / rate_.count : -((-due) / rate_.count);
}

}  // namespace dsb::bridge
