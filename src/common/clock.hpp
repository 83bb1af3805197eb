// Time sources. Steady time for timers and ages; wall time only for what goes on the wire.
#pragma once

#include <chrono>
#include <cstdint>

namespace dsb {

using Millis = std::chrono::milliseconds;

inline int64_t steady_ms() {
  return std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline int64_t steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline int64_t wall_ms() {
  return std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace dsb
