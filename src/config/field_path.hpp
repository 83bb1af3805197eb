// A field of a frame's data named in the config (`match`, `order_by`: product.md section
// 10): a dotted path into nested objects, "text.content" or "conversationId".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"

namespace dsb::config {

struct FieldPath {
  std::string text;                   // as written, for messages and `check`
  std::vector<std::string> segments;  // "text.content" -> {"text", "content"}

  bool operator==(const FieldPath& other) const { return text == other.text; }
};

// Splits `text` at each '.'. Refused: an empty name or segment ("", ".a", "a..b", "a."),
// control characters, and more than kMaxFieldDepth segments.
Result<FieldPath> parse_field_path(std::string_view text);

inline constexpr size_t kMaxFieldDepth = 16;

}  // namespace dsb::config
