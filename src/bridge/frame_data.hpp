// A frame's data as the route keys that look into it see it (`match`, `order_by`: product.md
// section 10): parsed once, on the first question, however many routes ask.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>

#include "config/field_path.hpp"

namespace dsb::bridge {

class FrameData {
 public:
  // REQUIRES: `data` outlives this object.
  explicit FrameData(std::string_view data) : data_(data) {}
  FrameData(const FrameData&) = delete;
  FrameData& operator=(const FrameData&) = delete;

  // The value at `path` as text: a string as it is, a number or boolean as its JSON text
  // ("2", "1.5", "true"). nullopt when the data is not a JSON object, or the value is
  // absent, null, an object or an array.
  std::optional<std::string> field(const config::FieldPath& path);
  // Whether a question has made it parse the data (tests: routing parses only for `match`).
  bool parsed() const { return parsed_; }

 private:
  std::string_view data_;
  bool parsed_ = false;
  rapidjson::Document doc_;
};

}  // namespace dsb::bridge
