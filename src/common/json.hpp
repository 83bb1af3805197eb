// Small JSON helpers over RapidJSON, shared by every stage.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>

namespace dsb::json {

// A JSON string literal for `text`, quotes included. Invalid UTF-8 is passed through
// escaped byte-wise so a log line can never be broken by it.
std::string quote(std::string_view text);

// Compact serialization of a RapidJSON value.
std::string write(const rapidjson::Value& value);

// Member lookup that tolerates a non-object and returns nullopt unless it is a string.
std::optional<std::string_view> string_member(const rapidjson::Value& object, const char* name);

}  // namespace dsb::json
