#include "config/map_reader.hpp"

#include <charconv>
#include <limits>

#include "config/checks.hpp"
#include "config/substitution.hpp"
#include "config/suggest.hpp"
#include "config/units.hpp"

namespace dsb::config {
namespace {

std::string join(const std::vector<std::string_view>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += items[i];
  }
  return out;
}

std::string hint(std::optional<std::string> suggestion) {
  return suggestion ? " (did you mean " + quoted(*suggestion) + "?)" : "";
}

// systemd credentials and `echo secret > file` both end in a newline that is not part of
// the secret; Windows editors add "\r\n".
std::string strip_trailing_newlines(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace

Scope Scope::child(std::string_view key) const {
  return {prefix.empty() ? std::string(key) : prefix + "." + std::string(key), route};
}

std::string Scope::name(std::string_view key) const {
  std::string path = prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
  return route.empty() ? path : path + " in " + route;
}

std::string Scope::where() const {
  if (route.empty()) return prefix;
  return prefix.empty() ? route : prefix + " of " + route;
}

std::string kind_of(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "a string";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return "nothing";
  }
  return "nothing";
}

YAML::Mark mark_or(const YAML::Node& node, const YAML::Mark& fallback) {
  YAML::Mark mark = node.Mark();
  return mark.is_null() || mark.line < 0 ? fallback : mark;
}

std::optional<std::string> read_text(Context& ctx, const YAML::Node& node, const YAML::Mark& mark,
                                     const std::string& name) {
  if (node.IsNull()) return std::string();
  if (!node.IsScalar()) {
    ctx.diag.error(mark, name + ": expected a string, got " + kind_of(node));
    return std::nullopt;
  }
  Substituted result = substitute(node.Scalar(), ctx.env);
  for (const std::string& problem : result.errors) ctx.diag.error(mark, name + ": " + problem);
  if (!result.errors.empty()) return std::nullopt;
  // YAML's "\0" escape or a variable can put a NUL into a value; C APIs (paths, curl,
  // OpenSSL) would silently cut it there.
  if (result.value.find('\0') != std::string::npos) {
    ctx.diag.error(mark, name + ": must not contain a NUL byte");
    return std::nullopt;
  }
  return std::move(result.value);
}

MapReader::MapReader(Context& ctx, const YAML::Node& map, const YAML::Mark& mark, Scope scope)
    : ctx_(&ctx), mark_(mark), scope_(std::move(scope)) {
  if (!map.IsMap()) return;
  for (auto it = map.begin(); it != map.end(); ++it) {
    YAML::Mark key_mark = mark_or(it->first, mark_);
    // Keys are names, not values: a non-scalar key is a typo like "? [a]", not a feature.
    if (!it->first.IsScalar()) {
      ctx.diag.error(key_mark, "keys must be plain names, got " + kind_of(it->first));
      continue;
    }
    std::string key = it->first.Scalar();
    if (const Entry* first = find(key)) {
      duplicates_.push_back({std::move(key), first->key_mark.line + 1, key_mark});
      continue;
    }
    index_.emplace(key, entries_.size());
    entries_.push_back({std::move(key), it->second, key_mark});
  }
}

std::optional<MapReader> MapReader::open(Context& ctx, const YAML::Node& node,
                                         const YAML::Mark& mark, Scope scope,
                                         const std::string& name) {
  if (!node.IsMap() && !node.IsNull()) {
    ctx.diag.error(mark_or(node, mark), name + ": expected a mapping, got " + kind_of(node));
    return std::nullopt;
  }
  return MapReader(ctx, node, mark, std::move(scope));
}

void MapReader::report_duplicates() {
  std::string where = scope_.where();
  for (const Duplicate& duplicate : duplicates_) {
    ctx_->diag.error(duplicate.mark, "duplicate key " + quoted(duplicate.key) +
                                         (where.empty() ? "" : " in " + where) + " (first at line " +
                                         std::to_string(duplicate.first_line) + ")");
  }
  duplicates_.clear();
}

void MapReader::reject_unknown(const std::vector<std::string_view>& known) {
  report_duplicates();
  std::string where = scope_.where();
  for (const Entry& entry : entries_) {
    bool is_known = false;
    for (std::string_view k : known) is_known = is_known || k == entry.key;
    if (is_known) continue;
    std::string message = where.empty() ? "unknown top-level key " + quoted(entry.key)
                                        : "unknown key " + quoted(entry.key) + " in " + where;
    // "client_id_file": the operator knows the *_file convention but this key is no secret.
    std::string_view key = entry.key;
    std::string_view base = key.ends_with("_file") ? key.substr(0, key.size() - 5) : "";
    bool base_known = false;
    for (std::string_view k : known) base_known = base_known || (!base.empty() && k == base);
    if (base_known) {
      message += " (only secrets can be given as *_file)";
    } else {
      message += hint(closest_match(entry.key, known));
    }
    ctx_->diag.error(entry.key_mark, message);
  }
}

const MapReader::Entry* MapReader::find(std::string_view key) const {
  auto it = index_.find(std::string(key));
  return it == index_.end() ? nullptr : &entries_[it->second];
}

YAML::Mark MapReader::value_mark(std::string_view key) const {
  const Entry* entry = find(key);
  // A secret given as key_file is located at the file key, so "must not be empty" points there.
  if (!entry) entry = find(std::string(key) + "_file");
  if (!entry) return mark_;
  return mark_or(entry->value, entry->key_mark);
}

void MapReader::error(std::string_view key, const std::string& problem) {
  ctx_->diag.error(value_mark(key), scope_.name(key) + ": " + problem);
}

void MapReader::missing(std::string_view key, std::string_view note) {
  std::string where = scope_.where();
  std::string message = where.empty() ? "missing top-level key " + quoted(key)
                                      : "missing key " + quoted(key) + " in " + where;
  if (!note.empty()) message += " (" + std::string(note) + ")";
  ctx_->diag.error(mark_, message);
}

void MapReader::missing_either(std::string_view a, std::string_view b) {
  missing(std::string(a) + "\" or \"" + std::string(b));
}

bool MapReader::reject_both(std::string_view a, std::string_view b) {
  const Entry* first = find(a);
  const Entry* second = find(b);
  if (!first || !second) return false;
  if (second->key_mark.pos < first->key_mark.pos) std::swap(first, second);
  ctx_->diag.error(second->key_mark, scope_.name(second->key) + ": cannot be combined with " +
                                         first->key + "; give only one of them");
  return true;
}

std::optional<std::string> MapReader::text(std::string_view key) {
  const Entry* entry = find(key);
  if (!entry) return std::nullopt;
  return read_text(*ctx_, entry->value, value_mark(key), scope_.name(key));
}

std::optional<std::chrono::milliseconds> MapReader::duration(std::string_view key) {
  const Entry* entry = find(key);
  if (!entry) return std::nullopt;
  if (entry->value.IsNull()) {
    error(key, "expected a duration such as 250ms, 3s, 5m or 1h, got nothing");
    return std::nullopt;
  }
  std::optional<std::string> raw = text(key);
  if (!raw) return std::nullopt;
  Result<std::chrono::milliseconds> parsed = parse_duration(*raw);
  if (!parsed) {
    error(key, parsed.status().message());
    return std::nullopt;
  }
  // Every duration in the schema is a wait or a window: zero would mean "never wait".
  if (parsed.value().count() <= 0) {
    error(key, "must be greater than 0");
    return std::nullopt;
  }
  return parsed.value();
}

std::optional<std::size_t> MapReader::size(std::string_view key) {
  const Entry* entry = find(key);
  if (!entry) return std::nullopt;
  if (entry->value.IsNull()) {
    error(key, "expected a size such as 4MiB, 512KiB or 1048576, got nothing");
    return std::nullopt;
  }
  std::optional<std::string> raw = text(key);
  if (!raw) return std::nullopt;
  Result<std::size_t> parsed = parse_size(*raw);
  if (!parsed) {
    error(key, parsed.status().message());
    return std::nullopt;
  }
  if (parsed.value() == 0) {
    error(key, "must be greater than 0");
    return std::nullopt;
  }
  return parsed.value();
}

std::optional<long long> MapReader::integer(std::string_view key, long long min, long long max) {
  const Entry* entry = find(key);
  if (!entry) return std::nullopt;
  if (entry->value.IsNull()) {
    error(key, "expected an integer, got nothing");
    return std::nullopt;
  }
  std::optional<std::string> raw = text(key);
  if (!raw) return std::nullopt;
  long long value = 0;
  auto [end, ec] = std::from_chars(raw->data(), raw->data() + raw->size(), value);
  bool whole = ec == std::errc() && end == raw->data() + raw->size();
  if (!whole && ec != std::errc::result_out_of_range) {
    error(key, "expected an integer, got " + quoted(*raw));
    return std::nullopt;
  }
  if (ec == std::errc::result_out_of_range || value < min || value > max) {
    // Bounds at int's limit are "no upper bound" to the operator.
    std::string range = max >= std::numeric_limits<int>::max()
                            ? "must be at least " + std::to_string(min)
                            : "must be between " + std::to_string(min) + " and " + std::to_string(max);
    error(key, range + ", got " + *raw);
    return std::nullopt;
  }
  return value;
}

std::optional<bool> MapReader::boolean(std::string_view key) {
  std::optional<std::string> raw = text(key);
  if (!raw) return std::nullopt;
  if (*raw == "true") return true;
  if (*raw == "false") return false;
  error(key, "expected true or false, got " + quoted(*raw));
  return std::nullopt;
}

std::optional<std::string> MapReader::choice(std::string_view key,
                                             const std::vector<std::string_view>& choices) {
  std::optional<std::string> value = text(key);
  if (!value) return std::nullopt;
  for (std::string_view c : choices) {
    if (c == *value) return value;
  }
  error(key, "must be one of " + join(choices) + ", got " + quoted(*value) +
                 hint(closest_match(*value, choices)));
  return std::nullopt;
}

std::optional<std::string> MapReader::secret(std::string_view key) {
  std::string file_key = std::string(key) + "_file";
  const Entry* inline_entry = find(key);
  const Entry* file_entry = find(file_key);
  if (reject_both(key, file_key)) return std::nullopt;
  if (inline_entry) return text(key);
  if (!file_entry) return std::nullopt;
  std::optional<std::string> path = text(file_key);
  if (!path) return std::nullopt;
  if (path->empty()) {
    error(file_key, "must be a file path, got \"\"");
    return std::nullopt;
  }
  std::optional<std::string> content = file(file_key, *path, kMaxSecretBytes);
  if (!content) return std::nullopt;
  if (content->find('\0') != std::string::npos) {
    error(file_key, quoted(*path) + " contains a NUL byte; a secret is text");
    return std::nullopt;
  }
  return strip_trailing_newlines(std::move(*content));
}

std::optional<std::string> MapReader::file(std::string_view key, const std::string& path,
                                           std::size_t max_bytes) {
  Result<std::string> content = ctx_->env.read_file(path, max_bytes);
  if (!content) {
    error(key, "cannot read " + quoted(path) + ": " + content.status().message());
    return std::nullopt;
  }
  return std::move(content.value());
}

std::optional<std::string> MapReader::required_secret(std::string_view key) {
  std::string file_key = std::string(key) + "_file";
  if (!has(key) && !has(file_key)) {
    missing_either(key, file_key);
    return std::nullopt;
  }
  std::optional<std::string> value = secret(key);
  if (value && value->empty()) {
    if (has(key)) {
      error(key, "must not be empty");
    } else {
      error(file_key, "the file is empty");
    }
  }
  return value;
}

std::optional<MapReader> MapReader::map(std::string_view key) {
  const Entry* entry = find(key);
  if (!entry) return std::nullopt;
  return open(*ctx_, entry->value, entry->key_mark, scope_.child(key), scope_.name(key));
}

}  // namespace dsb::config
