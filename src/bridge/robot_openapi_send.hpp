// A robot reply (the sessionWebhook message format: text, markdown, actionCard, link) as
// the OpenAPI robot send it becomes when the sessionWebhook cannot take it (product.md
// section 10 "Reply fallback"; stream-protocol.md sections 5.3 and 8):
//
//   1:1   (conversationType "1")  POST /v1.0/robot/oToMessages/batchSend
//         {"robotCode","userIds":[senderStaffId],"msgKey","msgParam"}
//   group (conversationType "2")  POST /v1.0/robot/groupMessages/send
//         {"robotCode","openConversationId":conversationId,"msgKey","msgParam"}
//
// msgParam is a JSON *string* holding the template's fields:
//   text        -> sampleText {content}
//   markdown    -> sampleMarkdown {title,text}
//   actionCard  -> singleTitle/singleURL: sampleActionCard {title,text,singleTitle,singleURL}
//                  btns (2..5, vertical): sampleActionCardN {title,text,actionTitleK,actionURLK}
//                  btns (2, btnOrientation "1", side by side): sampleActionCard6
//                      {title,text,buttonTitle1,buttonUrl1,buttonTitle2,buttonUrl2}
//                  one btn: sampleActionCard with it as the single button
//   link        -> sampleLink {text,title,picUrl,messageUrl}
// No template carries an `at` block: a reply with one is sent without it (its text still
// reads "@name", but nobody is notified), and the result says so, so the caller logs it.
// What else the templates cannot carry (feedCard, more than 5 buttons) makes the reply
// unmappable; the caller counts and logs that, it is never dropped silently.
// Pure: no I/O, no clock.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "bridge/robot_message.hpp"
#include "common/status.hpp"

namespace dsb::bridge {

inline constexpr size_t kMaxMsgParamBytes = 15'000;  // DingTalk's limit on msgParam

struct OpenApiTemplate {
  std::string msg_key;    // "sampleText", ...
  std::string msg_param;  // the template's fields, serialized JSON object
  bool mentions_dropped = false;  // the reply's `at` block named someone; it is not sent
};

// The template for `reply`, or why it has none.
Result<OpenApiTemplate> map_reply_template(std::string_view reply);

struct OpenApiSend {
  std::string path;  // "/v1.0/robot/oToMessages/batchSend" or "/v1.0/robot/groupMessages/send"
  std::string body;  // JSON
  bool mentions_dropped = false;  // as OpenApiTemplate's
};

// The whole send for `reply` to the conversation `robot` came from; robotCode is the
// message's, else `default_robot_code` (the app's client_id, as the Python SDK does).
Result<OpenApiSend> build_openapi_send(const RobotMessage& robot, std::string_view reply,
                                       const std::string& default_robot_code);

}  // namespace dsb::bridge
