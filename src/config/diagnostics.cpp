#include "config/diagnostics.hpp"

#include <algorithm>

namespace dsb::config {

SourceLocation Diagnostics::location(const YAML::Mark& mark) const {
  if (mark.is_null() || mark.line < 0) return {file_, 0, 0};
  return {file_, mark.line + 1, mark.column + 1};
}

void Diagnostics::error(const YAML::Mark& mark, std::string message) {
  errors_.push_back({location(mark), std::move(message)});
}

std::vector<ConfigError> Diagnostics::take_sorted() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const ConfigError& a, const ConfigError& b) {
    if (a.where.line != b.where.line) return a.where.line < b.where.line;
    return a.where.column < b.where.column;
  });
  return std::move(errors_);
}

}  // namespace dsb::config
