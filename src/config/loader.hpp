// YAML file -> typed Config. Every problem is collected (not just the first) and reported
// as FILE:LINE:COL: message, so an operator fixes the whole file in one pass.
#pragma once

#include <cstddef>
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

// Caps on what the loader reads, so a wrong path (/dev/zero, a log file, a FIFO) fails at
// once with a message instead of blocking the reload or exhausting memory. The config is
// a few KiB in practice; a CA bundle with every public root is about 200 KiB.
inline constexpr std::size_t kMaxConfigBytes = 4 * 1024 * 1024;
inline constexpr std::size_t kMaxSecretBytes = 64 * 1024;
inline constexpr std::size_t kMaxCaBundleBytes = 4 * 1024 * 1024;

// What the loader needs from the outside world, so tests can fake it.
class Environment {
 public:
  virtual ~Environment() = default;
  virtual std::optional<std::string> get(std::string_view name) const = 0;
  // The content of a regular file of at most `max_bytes`. Anything else is an error whose
  // message follows "cannot read \"PATH\": ": "not a regular file (a FIFO)", "larger than
  // 64 KiB", or errno's text. Never blocks: a FIFO or device is refused before any read.
  virtual Result<std::string> read_file(const std::string& path, std::size_t max_bytes) const = 0;
};

// The real process environment and file system.
class ProcessEnvironment : public Environment {
 public:
  std::optional<std::string> get(std::string_view name) const override;
  Result<std::string> read_file(const std::string& path, std::size_t max_bytes) const override;
};

// "larger than 64 KiB": the message read_file() gives for a file over `max_bytes`.
std::string too_large(std::size_t max_bytes);

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
