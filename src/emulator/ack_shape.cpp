#include "emulator/ack_shape.hpp"

#include "common/json.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <array>

namespace dsb::emulator {

namespace {

constexpr std::array<std::string_view, 4> kMembers = {"code", "headers", "message", "data"};

bool is_json_text(std::string_view text) {
  rapidjson::Document doc;
  return json::parse(doc, text);
}

void check_headers(const rapidjson::Value& headers, std::vector<std::string>& out) {
  auto message_id = json::string_member(headers, "messageId");
  if (!message_id || message_id->empty()) {
    out.emplace_back("headers.messageId is not a non-empty string");
  }
  if (json::string_member(headers, "contentType") != "application/json") {
    out.emplace_back("headers.contentType is not \"application/json\"");
  }
  for (const auto& header : headers.GetObject()) {
    if (!header.value.IsString()) {
      out.emplace_back("header \"" + std::string(header.name.GetString()) + "\" is not a string");
    }
  }
}

void check_data(const rapidjson::Value* data, bool success, std::vector<std::string>& out) {
  if (data == nullptr) {
    if (success) out.emplace_back("data is missing on a code 200 ACK");
    return;
  }
  if (!data->IsString()) {
    out.emplace_back("data is not a string");
    return;
  }
  if (!is_json_text(std::string_view(data->GetString(), data->GetStringLength()))) {
    out.emplace_back("data is not a JSON text");
  }
}

const rapidjson::Value* find(const rapidjson::Value& object, const char* name) {
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

}  // namespace

std::vector<std::string> ack_shape_violations(std::string_view text) {
  rapidjson::Document doc;
  if (!json::parse(doc, text)) return {"not JSON"};
  if (!doc.IsObject()) return {"not a JSON object"};

  std::vector<std::string> out;
  const rapidjson::Value* code = find(doc, "code");
  if (code == nullptr || !code->IsInt64()) out.emplace_back("code is not an integer");
  const rapidjson::Value* headers = find(doc, "headers");
  if (headers == nullptr || !headers->IsObject()) {
    out.emplace_back("headers is not an object");
  } else {
    check_headers(*headers, out);
  }
  const rapidjson::Value* message = find(doc, "message");
  if (message == nullptr || !message->IsString()) out.emplace_back("message is not a string");
  const bool success = code != nullptr && code->IsInt64() && code->GetInt64() == 200;
  check_data(find(doc, "data"), success, out);
  for (const auto& member : doc.GetObject()) {
    const std::string_view name(member.name.GetString(), member.name.GetStringLength());
    if (std::find(kMembers.begin(), kMembers.end(), name) == kMembers.end()) {
      out.emplace_back("unexpected member \"" + std::string(name) + "\"");
    }
  }
  return out;
}

}  // namespace dsb::emulator
