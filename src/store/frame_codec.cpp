#include "store/frame_codec.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace dsb::store {

std::string frame_headers_json(const stream::Frame& frame) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  for (const auto& [name, value] : frame.headers) {
    writer.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  }
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

void parse_frame_headers(std::string_view json, stream::Frame& frame) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return;
  for (const auto& member : doc.GetObject()) {
    if (!member.value.IsString()) continue;
    frame.headers.emplace_back(
        std::string(member.name.GetString(), member.name.GetStringLength()),
        std::string(member.value.GetString(), member.value.GetStringLength()));
  }
}

stream::FrameType parse_frame_type(std::string_view name) {
  if (name == "CALLBACK") return stream::FrameType::callback;
  if (name == "SYSTEM") return stream::FrameType::system;
  return stream::FrameType::event;
}

}  // namespace dsb::store
