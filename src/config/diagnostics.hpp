// Collects every config error with its place in the file, so one `check` run reports them
// all, in file order.
#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/loader.hpp"

namespace dsb::config {

class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  // `mark` is yaml-cpp's 0-based position; a null mark means "no position" (line 0).
  void error(const YAML::Mark& mark, std::string message);
  SourceLocation location(const YAML::Mark& mark) const;

  bool empty() const { return errors_.empty(); }
  const std::string& file() const { return file_; }

  // Errors sorted by position (stable, so several at one place keep their order).
  std::vector<ConfigError> take_sorted();

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
};

}  // namespace dsb::config
