// Time sources. Steady time for timers and ages; wall time only for what goes on the wire.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

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

// `wall` (ms since the epoch) as ISO 8601 UTC with milliseconds: 2026-01-02T03:04:05.006Z.
inline std::string format_utc_ms(int64_t wall) {
  const std::time_t secs = static_cast<std::time_t>(wall / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(wall % 1000));
  return buf;
}

}  // namespace dsb
