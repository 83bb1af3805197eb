// Typed, error-collecting access to one YAML mapping of the config. Every read either
// yields a checked value or records an error (with the value's file position) and yields
// nothing, so the loader carries on and reports the whole file in one pass.
// yaml-cpp types stay inside src/config/: nothing here is included outside it.
#pragma once

#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/diagnostics.hpp"
#include "config/loader.hpp"

namespace dsb::config {

struct Context {
  Diagnostics& diag;
  const Environment& env;
};

// How messages name a key: "dingtalk.connections", "timeout in route \"robot\"",
// "retry.backoff.initial in route \"robot\"".
struct Scope {
  std::string prefix;  // dotted path of the mapping; "" at the top level or a route's root
  std::string route;   // "route \"robot\"" or "route #3" inside routes, else ""

  Scope child(std::string_view key) const;
  // The full name of `key` in this mapping, for "<name>: <problem>" messages.
  std::string name(std::string_view key) const;
  // The mapping itself, for "unknown key "x" in <where>" messages; "" at the top level.
  std::string where() const;
};

// A human name for a node's kind: "a mapping", "a list", "nothing", "a string".
std::string kind_of(const YAML::Node& node);

// The node's own mark, or `fallback` when yaml-cpp has none (empty values).
YAML::Mark mark_or(const YAML::Node& node, const YAML::Mark& fallback);

// A string scalar with ${VAR} substituted. An empty value (`key:`) reads as "".
// `name` is the key's full name for messages.
std::optional<std::string> read_text(Context& ctx, const YAML::Node& node, const YAML::Mark& mark,
                                     const std::string& name);

class MapReader {
 public:
  struct Entry {
    std::string key;
    YAML::Node value;
    YAML::Mark key_mark;
  };

  // REQUIRES: `map` is a mapping or null (null reads as an empty mapping).
  // `mark` locates the mapping (its key in the parent) for "missing key" errors.
  MapReader(Context& ctx, const YAML::Node& map, const YAML::Mark& mark, Scope scope);

  // Opens `node` as a mapping named `name`, or reports that it is something else.
  static std::optional<MapReader> open(Context& ctx, const YAML::Node& node,
                                       const YAML::Mark& mark, Scope scope,
                                       const std::string& name);

  // Reports every key not in `known`, with a "did you mean" hint, and duplicate keys.
  // Called once the scope is final: a route's messages name it only after its `name`
  // has been read.
  void reject_unknown(const std::vector<std::string_view>& known);
  // Duplicate keys only, for mappings with free-form keys (headers).
  void report_duplicates();

  void set_scope(Scope scope) { scope_ = std::move(scope); }
  const Scope& scope() const { return scope_; }
  const YAML::Mark& mark() const { return mark_; }
  const std::vector<Entry>& entries() const { return entries_; }

  const Entry* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // Where the value of `key` is (or the mapping, when the key is absent).
  YAML::Mark value_mark(std::string_view key) const;

  // Each returns nothing when the key is absent or its value is wrong (then reported).
  std::optional<std::string> text(std::string_view key);
  std::optional<std::chrono::milliseconds> duration(std::string_view key);
  std::optional<std::size_t> size(std::string_view key);
  std::optional<long long> integer(std::string_view key, long long min, long long max);
  // `true` or `false` (YAML's yes/no/on/off are refused: they surprise people).
  std::optional<bool> boolean(std::string_view key);
  // A text value that must be one of `choices`.
  std::optional<std::string> choice(std::string_view key, const std::vector<std::string_view>& choices);
  // A secret given as `key` or as `key_file` (read through the Environment, trailing
  // newlines stripped). Messages never contain the secret.
  std::optional<std::string> secret(std::string_view key);
  // secret(), plus: absent is "missing key", empty is an error (naming the file when the
  // secret came from one).
  std::optional<std::string> required_secret(std::string_view key);
  // The content of the file at `path` (named by the value of `key`), read through the
  // Environment: a regular file of at most `max_bytes`, else "cannot read ..." at `key`.
  std::optional<std::string> file(std::string_view key, const std::string& path, std::size_t max_bytes);
  // A nested mapping, or nothing when absent or not a mapping (then reported).
  std::optional<MapReader> map(std::string_view key);

  // "<name of key>: <problem>" at the value of `key` (or the mapping when absent).
  void error(std::string_view key, const std::string& problem);
  // "missing key "x" in <where> (<note>)" at the mapping; no parentheses when `note` is "".
  void missing(std::string_view key, std::string_view note = "");
  // "missing key "a" or "b" in <where>": exactly one of them is needed.
  void missing_either(std::string_view a, std::string_view b);
  // "<b> in <where>: cannot be combined with <a>; give only one of them", at whichever
  // of the two keys comes second. Returns true when both are present.
  bool reject_both(std::string_view a, std::string_view b);

 private:
  Context* ctx_;
  YAML::Mark mark_;
  Scope scope_;
  std::vector<Entry> entries_;  // the first occurrence of each key, in file order
  // key -> its position in entries_: a mapping may have many keys (headers), and a
  // linear find() per key made reading one quadratic (149k headers took 490 s).
  std::unordered_map<std::string, std::size_t> index_;
  struct Duplicate {
    std::string key;
    int first_line;  // 1-based
    YAML::Mark mark;
  };
  std::vector<Duplicate> duplicates_;
};

}  // namespace dsb::config
