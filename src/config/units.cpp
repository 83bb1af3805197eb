#include "config/units.hpp"

#include <cstdint>
#include <limits>

namespace dsb::config {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads a run of decimal digits at `pos`; false when there is none or it overflows.
bool read_number(std::string_view text, std::size_t& pos, std::uint64_t& out) {
  std::size_t start = pos;
  std::uint64_t value = 0;
  while (pos < text.size() && is_digit(text[pos])) {
    std::uint64_t digit = static_cast<std::uint64_t>(text[pos] - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return false;
    value = value * 10 + digit;
    ++pos;
  }
  out = value;
  return pos > start;
}

bool multiply_add(std::uint64_t& total, std::uint64_t value, std::uint64_t unit,
                  std::uint64_t limit) {
  if (value != 0 && unit > limit / value) return false;
  std::uint64_t product = value * unit;
  if (total > limit - product) return false;
  total += product;
  return true;
}

}  // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  auto invalid = [&] {
    return Result<std::chrono::milliseconds>::error(
        "invalid duration \"" + std::string(text) + "\": use a number followed by ms, s, m or h");
  };
  // Limit to what a signed 64-bit millisecond count holds; nothing sane comes near it.
  constexpr std::uint64_t kLimit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (text.empty()) return invalid();
  std::uint64_t total = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::uint64_t value = 0;
    if (!read_number(text, pos, value)) return invalid();
    std::uint64_t unit = 0;
    std::string_view rest = text.substr(pos);
    if (rest.starts_with("ms")) {
      unit = 1;
      pos += 2;
    } else if (rest.starts_with("s")) {
      unit = 1'000;
      pos += 1;
    } else if (rest.starts_with("m")) {
      unit = 60'000;
      pos += 1;
    } else if (rest.starts_with("h")) {
      unit = 3'600'000;
      pos += 1;
    } else {
      return invalid();
    }
    if (!multiply_add(total, value, unit, kLimit)) {
      return Result<std::chrono::milliseconds>::error("duration \"" + std::string(text) +
                                                      "\" is too large");
    }
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(total));
}

Result<std::size_t> parse_size(std::string_view text) {
  auto invalid = [&] {
    return Result<std::size_t>::error("invalid size \"" + std::string(text) +
                                      "\": use a number of bytes, optionally followed by "
                                      "KiB, MiB, GiB, KB, MB or GB");
  };
  std::size_t pos = 0;
  std::uint64_t value = 0;
  if (!read_number(text, pos, value)) return invalid();
  std::string_view unit = text.substr(pos);
  if (unit.starts_with(" ")) unit.remove_prefix(1);
  std::uint64_t multiplier = 0;
  if (unit.empty() && pos == text.size()) multiplier = 1;
  else if (unit == "KiB") multiplier = 1024;
  else if (unit == "MiB") multiplier = 1024ull * 1024;
  else if (unit == "GiB") multiplier = 1024ull * 1024 * 1024;
  else if (unit == "KB") multiplier = 1000;
  else if (unit == "MB") multiplier = 1000ull * 1000;
  else if (unit == "GB") multiplier = 1000ull * 1000 * 1000;
  else return invalid();
  std::uint64_t total = 0;
  if (!multiply_add(total, value, multiplier, std::numeric_limits<std::size_t>::max())) {
    return Result<std::size_t>::error("size \"" + std::string(text) + "\" is too large");
  }
  return static_cast<std::size_t>(total);
}

std::string format_size(std::size_t bytes) {
  constexpr std::size_t kKiB = 1024;
  if (bytes != 0 && bytes % (kKiB * kKiB) == 0) return std::to_string(bytes / (kKiB * kKiB)) + " MiB";
  if (bytes != 0 && bytes % kKiB == 0) return std::to_string(bytes / kKiB) + " KiB";
  return std::to_string(bytes) + " bytes";
}

std::string format_duration(std::chrono::milliseconds value) {
  std::int64_t ms = value.count();
  // "2500ms" reads better than "2s500ms"; whole seconds combine: "1m30s".
  if (ms <= 0 || ms % 1000 != 0) return std::to_string(ms) + "ms";
  std::string out;
  struct Unit { std::int64_t size; const char* name; };
  for (Unit unit : {Unit{3'600'000, "h"}, Unit{60'000, "m"}, Unit{1'000, "s"}}) {
    if (ms >= unit.size) {
      out += std::to_string(ms / unit.size) + unit.name;
      ms %= unit.size;
    }
  }
  return out;
}

}  // namespace dsb::config
