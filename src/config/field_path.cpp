#include "config/field_path.hpp"

namespace dsb::config {

Result<FieldPath> parse_field_path(std::string_view text) {
  if (text.empty()) return Result<FieldPath>::error("a field name may not be empty");
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      return Result<FieldPath>::error("a field name may not contain control characters");
    }
  }
  FieldPath path;
  path.text = std::string(text);
  size_t start = 0;
  while (true) {
    const size_t dot = text.find('.', start);
    const std::string_view segment = text.substr(start, dot - start);
    if (segment.empty()) {
      return Result<FieldPath>::error("\"" + path.text +
                                      "\" has an empty segment: write a dotted path like text.content");
    }
    path.segments.emplace_back(segment);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (path.segments.size() > kMaxFieldDepth) {
    return Result<FieldPath>::error("\"" + path.text + "\" is more than " +
                                    std::to_string(kMaxFieldDepth) + " fields deep");
  }
  return path;
}

}  // namespace dsb::config
