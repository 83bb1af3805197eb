#include "bridge/frame_data.hpp"

#include "common/json.hpp"

namespace dsb::bridge {

std::optional<std::string> FrameData::field(const config::FieldPath& path) {
  if (!parsed_) {
    parsed_ = true;
    if (!json::parse(doc_, data_)) doc_.SetNull();
  }
  const rapidjson::Value* value = &doc_;
  for (const std::string& segment : path.segments) {
    if (!value->IsObject()) return std::nullopt;
    auto member = value->FindMember(
        rapidjson::Value(rapidjson::StringRef(segment.data(), segment.size())));
    if (member == value->MemberEnd()) return std::nullopt;
    value = &member->value;
  }
  if (value->IsString()) return std::string(value->GetString(), value->GetStringLength());
  if (value->IsNumber() || value->IsBool()) return json::write(*value);
  return std::nullopt;
}

}  // namespace dsb::bridge
