// Small JSON helpers over RapidJSON, shared by every stage.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace dsb::json {

// A JSON string literal for `text`, quotes included. Invalid UTF-8 is passed through
// escaped byte-wise so a log line can never be broken by it.
std::string quote(std::string_view text);

// Compact serialization of a RapidJSON value.
std::string write(const rapidjson::Value& value);

// RapidJSON's DOM parser recurses once per open array/object, so a text like "[[[[..." a
// few hundred KiB long overflows the thread's stack (found by tests/fuzz). Every text from
// outside (frames, their data, webhook replies) is checked with this before it is parsed.
inline constexpr size_t kMaxDepth = 256;  // far beyond any DingTalk payload or webhook reply

// True when `text` has more than `max_depth` arrays/objects open at once. Brackets inside
// strings do not count. `text` need not be valid JSON: up to its first error, the parser
// sees the same nesting as this scan, so a text that passes cannot recurse deeper.
bool nests_deeper_than(std::string_view text, size_t max_depth = kMaxDepth);

// Parses untrusted `text` into `doc`: false (and `doc` left as a parse error or empty)
// when it is not JSON or nests deeper than kMaxDepth. The one way the bridge parses what
// DingTalk, a proxy or a webhook sent.
bool parse(rapidjson::Document& doc, std::string_view text);

// Member lookup that tolerates a non-object and returns nullopt unless it is a string.
std::optional<std::string_view> string_member(const rapidjson::Value& object, const char* name);

}  // namespace dsb::json
