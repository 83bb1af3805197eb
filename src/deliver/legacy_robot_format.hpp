// `format: legacy-robot` (product.md section 5; reference/legacy-http.md section 2): what
// DingTalk's HTTP-mode robot push sent. Body = the message JSON exactly as Stream delivered
// it; headers `timestamp` (ms) and `sign` (robot_signature, keyed by the client secret).
// The app's HTTP answer is the robot's reply.
#pragma once

#include <string_view>

#include "deliver/format.hpp"

namespace dsb::deliver {

// True when `reply` is a JSON object whose `msgtype` is one a robot may answer with:
// text, markdown, actionCard, feedCard (the HTTP-response list) or link (accepted by the
// sessionWebhook). `{"msgtype":"empty"}`, other types and non-JSON are no reply.
bool is_robot_reply_message(std::string_view reply);

class LegacyRobotFormat : public WebhookFormat {
 public:
  // Never fails.
  Result<Request> build(const DeliveryInput& input) const override;
  // Always delivered (DingTalk showed nothing for a bad answer, and did not redeliver);
  // reply = the body when is_robot_reply_message(body), else "".
  ReplyVerdict judge(const config::Route& route, std::string_view client_id,
                     const Response& response) const override;
};

}  // namespace dsb::deliver
