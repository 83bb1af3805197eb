// Text helpers for messages built from untrusted input.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace dsb {

// At most `max` bytes of `text` for an error or log message: one line, printable ASCII
// only (anything else becomes '?'), "..." when cut.
inline std::string printable_excerpt(std::string_view text, size_t max) {
  std::string out;
  out.reserve(std::min(text.size(), max) + 3);
  for (unsigned char c : text.substr(0, max)) {
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (text.size() > max) out += "...";
  return out;
}

}  // namespace dsb
