// YAML file -> typed Config. Every problem is collected (not just the first) and reported
// as FILE:LINE:COL: message, so an operator fixes the whole file in one pass.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "config/config.hpp"

namespace dsb::config {

struct ConfigError {
  SourceLocation where;
  std::string message;
  // "FILE:LINE:COL: message"
  std::string to_string() const;
};

// What the loader needs from the outside world, so tests can fake it.
class Environment {
 public:
  virtual ~Environment() = default;
  virtual std::optional<std::string> get(std::string_view name) const = 0;
  virtual Result<std::string> read_file(const std::string& path) const = 0;
};

// The real process environment and file system.
class ProcessEnvironment : public Environment {
 public:
  std::optional<std::string> get(std::string_view name) const override;
  Result<std::string> read_file(const std::string& path) const override;
};

struct LoadResult {
  std::optional<Config> config;     // set only when errors is empty
  std::vector<ConfigError> errors;  // in file order
};

LoadResult load_file(const std::string& path, const Environment& env);
// `file_name` is what error messages call the source.
LoadResult load_string(std::string_view yaml, const std::string& file_name,
                       const Environment& env);

// What `check` prints on success: the derived subscriptions and the routes, no secrets.
std::string describe(const Config& config);

}  // namespace dsb::config
