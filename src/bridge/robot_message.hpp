// The parts of a robot message (CALLBACK /v1.0/im/bot/messages/get) the bridge acts on, and
// the test of whether a webhook's reply is a robot message to send back.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dsb::bridge {

inline constexpr std::string_view kRobotTopic = "/v1.0/im/bot/messages/get";

struct RobotMessage {
  std::string msg_id;            // dedup key; "" when absent
  // Which robot it was for: the dedup key's scope and the OpenAPI fallback's robotCode; ""
  // when absent.
  std::string robot_code;
  std::string session_webhook;   // where replies go; "" when absent
  int64_t session_webhook_expires_ms = 0;  // 0 when absent
  // Where an OpenAPI fallback reply goes (robot_openapi_send.hpp); "" when absent.
  std::string conversation_type;  // "1" = 1:1, "2" = group
  std::string conversation_id;    // a group's openConversationId
  std::string sender_staff_id;    // the 1:1 recipient's userId
};

// Reads what it can from the frame's data; missing fields stay empty.
RobotMessage read_robot_message(std::string_view data);

// True when `reply` is a JSON object with a string `msgtype` other than "empty".
bool is_robot_reply(std::string_view reply);

}  // namespace dsb::bridge
