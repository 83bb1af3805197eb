#include "emulator/acks.hpp"

#include "common/json.hpp"

#include <rapidjson/document.h>

namespace dsb::emulator {

namespace {

const rapidjson::Value* member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

}  // namespace

Result<Ack> parse_ack(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError()) return Result<Ack>::error("not JSON");
  if (!doc.IsObject()) return Result<Ack>::error("not a JSON object");
  Ack ack;
  const rapidjson::Value* headers = member(doc, "headers");
  auto message_id = headers ? json::string_member(*headers, "messageId") : std::nullopt;
  if (!message_id || message_id->empty()) return Result<Ack>::error("headers.messageId missing");
  ack.message_id = std::string(*message_id);
  const rapidjson::Value* code = member(doc, "code");
  if (!code || !code->IsInt64()) return Result<Ack>::error("code missing or not an integer");
  ack.code = code->GetInt64();
  if (const rapidjson::Value* message = member(doc, "message"); message && !message->IsNull()) {
    if (!message->IsString()) return Result<Ack>::error("message is not a string");
    ack.message = std::string(message->GetString(), message->GetStringLength());
  }
  if (const rapidjson::Value* data = member(doc, "data"); data && !data->IsNull()) {
    if (!data->IsString()) return Result<Ack>::error("data is not a string");
    ack.data = std::string(data->GetString(), data->GetStringLength());
    rapidjson::Document inner;
    inner.Parse(ack.data->data(), ack.data->size());
    if (!inner.HasParseError()) {
      if (auto status = json::string_member(inner, "status")) ack.status = std::string(*status);
    }
  }
  return ack;
}

std::string salvage_message_id(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError()) return {};
  const rapidjson::Value* headers = member(doc, "headers");
  auto id = headers ? json::string_member(*headers, "messageId") : std::nullopt;
  return id ? std::string(*id) : std::string();
}

}  // namespace dsb::emulator
