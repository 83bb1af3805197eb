// Durations and sizes as operators write them in the config: "250ms", "1m30s", "4MiB".
// Pure string -> value parsing; the caller adds which key and where.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace dsb::config {

// One or more <digits><unit> groups, unit in ms, s, m, h, summed: "250ms", "3s", "1m30s".
// A bare number is refused: "timeout: 5" is ambiguous (seconds? milliseconds?).
// Error text: invalid duration "5x": use a number followed by ms, s, m or h
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

// <digits> bytes, or <digits><unit> with KiB/MiB/GiB (1024-based) or KB/MB/GB
// (1000-based); one space is allowed before the unit. "4MiB", "512KiB", "1048576".
Result<std::size_t> parse_size(std::string_view text);

// A size as the config would spell it: 65536 -> "64 KiB", 4194304 -> "4 MiB", 1000 -> "1000 bytes".
std::string format_size(std::size_t bytes);

// A duration as the config would spell it, for messages and `check` output:
// 2500 -> "2500ms", 90000 -> "1m30s", 3600000 -> "1h".
std::string format_duration(std::chrono::milliseconds value);

}  // namespace dsb::config
