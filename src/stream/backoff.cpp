#include "stream/backoff.hpp"

#include <algorithm>
#include <random>

namespace dsb::stream {

Backoff::Backoff(Millis initial, Millis max, Random random)
    : initial_(std::max(initial, Millis{1})),
      max_(std::max(max, std::max(initial, Millis{1}))),
      random_(std::move(random)) {}

Backoff::Backoff(Millis initial, Millis max)
    : Backoff(initial, max, [engine = std::mt19937_64(std::random_device{}())]() mutable {
        return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
      }) {}

Backoff::Millis Backoff::base() const {
  // Doubling saturates long before 62 shifts; stop early to avoid overflow.
  Millis value = initial_;
  for (int i = 0; i < failures_ && value < max_; ++i) value *= 2;
  return std::min(value, max_);
}

Backoff::Millis Backoff::next() {
  const Millis b = base();
  ++failures_;
  double r = random_ ? random_() : 0.0;
  r = std::clamp(r, 0.0, 1.0);
  const auto count = static_cast<double>(b.count());
  const auto delay = static_cast<Millis::rep>(count - count * kJitter * r);
  return Millis{std::max<Millis::rep>(delay, 1)};
}

void Backoff::jump_to_max() {
  // Enough failures that base() is at the cap whatever initial/max are.
  failures_ = 64;
}

}  // namespace dsb::stream
