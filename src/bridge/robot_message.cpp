#include "bridge/robot_message.hpp"

#include <rapidjson/document.h>

#include "common/json.hpp"

namespace dsb::bridge {

RobotMessage read_robot_message(std::string_view data) {
  RobotMessage message;
  rapidjson::Document doc;
  if (!json::parse(doc, data) || !doc.IsObject()) return message;
  if (auto id = json::string_member(doc, "msgId")) message.msg_id = *id;
  if (auto code = json::string_member(doc, "robotCode")) message.robot_code = *code;
  if (auto url = json::string_member(doc, "sessionWebhook")) message.session_webhook = *url;
  if (auto type = json::string_member(doc, "conversationType")) message.conversation_type = *type;
  if (auto id = json::string_member(doc, "conversationId")) message.conversation_id = *id;
  if (auto staff = json::string_member(doc, "senderStaffId")) message.sender_staff_id = *staff;
  auto expires = doc.FindMember("sessionWebhookExpiredTime");
  if (expires != doc.MemberEnd()) {
    if (expires->value.IsInt64()) {
      message.session_webhook_expires_ms = expires->value.GetInt64();
    } else if (expires->value.IsString()) {
      // Headers and some payload times arrive as strings; accept both spellings.
      message.session_webhook_expires_ms = std::strtoll(expires->value.GetString(), nullptr, 10);
    }
  }
  return message;
}

bool is_robot_reply(std::string_view reply) {
  rapidjson::Document doc;
  if (!json::parse(doc, reply) || !doc.IsObject()) return false;
  auto type = json::string_member(doc, "msgtype");
  return type.has_value() && !type->empty() && *type != "empty";
}

}  // namespace dsb::bridge
