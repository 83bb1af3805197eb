#include "deliver/retry_after.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <string>

namespace dsb::deliver {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::optional<int64_t> delta_seconds(std::string_view text) {
  if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) {
        return c >= '0' && c <= '9';
      })) {
    return std::nullopt;
  }
  uint64_t seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec == std::errc::result_out_of_range || seconds > uint64_t(kMaxRetryAfterMs / 1000))
    return kMaxRetryAfterMs;
  return static_cast<int64_t>(seconds) * 1000;
}

// Seconds since the epoch of an HTTP-date. strptime's %a and %b read English names in the
// "C" locale, which the bridge never leaves.
std::optional<int64_t> http_date(std::string_view text) {
  static constexpr const char* kForms[] = {
      "%a, %d %b %Y %H:%M:%S GMT",  // IMF-fixdate, the one senders must use
      "%A, %d-%b-%y %H:%M:%S GMT",  // RFC 850 (obsolete)
      "%a %b %e %H:%M:%S %Y",       // asctime (obsolete)
  };
  const std::string value(text);
  for (const char* form : kForms) {
    std::tm tm{};
    const char* end = ::strptime(value.c_str(), form, &tm);
    if (end != nullptr && *end == '\0') return static_cast<int64_t>(::timegm(&tm));
  }
  return std::nullopt;
}

}  // namespace

std::optional<int64_t> parse_retry_after(std::string_view value, int64_t now_ms) {
  value = trim(value);
  if (auto delay = delta_seconds(value)) return delay;
  auto at = http_date(value);
  if (!at) return std::nullopt;
  if (*at > (now_ms + kMaxRetryAfterMs) / 1000) return kMaxRetryAfterMs;
  return std::max<int64_t>(0, *at * 1000 - now_ms);
}

}  // namespace dsb::deliver
