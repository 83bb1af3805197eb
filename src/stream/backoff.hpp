// Reconnect pacing as data: exponential growth from `initial` to `max`, with jitter, and a
// jump straight to the cap when the gateway rejects the credentials (a hot loop there would
// only get the IP throttled). Pure: the random source is injected so tests pin the jitter.
#pragma once

#include <chrono>
#include <functional>

namespace dsb::stream {

class Backoff {
 public:
  using Millis = std::chrono::milliseconds;
  // Returns a value in [0, 1).
  using Random = std::function<double()>;

  // REQUIRES: 0 < initial <= max.
  Backoff(Millis initial, Millis max, Random random);
  // A Backoff seeded from std::random_device.
  Backoff(Millis initial, Millis max);

  // The delay before the next attempt; each call counts one more failure. The base doubles
  // per failure (initial, 2*initial, ... capped at max); the delay is drawn uniformly from
  // [base * (1 - kJitter), base], so it never exceeds max and never drops below
  // initial * (1 - kJitter). Spreading the delays keeps N slots (or N bridges) that lost
  // their connections together from reconnecting in lockstep.
  Millis next();

  // After a connection proved healthy: the next delay starts again from `initial`.
  void reset() { failures_ = 0; }

  // Rejected credentials: the next delay (and every later one) is drawn at the cap.
  void jump_to_max();

  int failures() const { return failures_; }
  Millis initial() const { return initial_; }
  Millis max() const { return max_; }

  static constexpr double kJitter = 0.2;

 private:
  Millis base() const;

  Millis initial_;
  Millis max_;
  Random random_;
  int failures_ = 0;
};

}  // namespace dsb::stream
