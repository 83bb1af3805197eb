#include "deliver/legacy_robot_format.hpp"

#include <rapidjson/document.h>

#include <array>

#include "common/json.hpp"
#include "deliver/signature.hpp"

namespace dsb::deliver {

bool is_robot_reply_message(std::string_view reply) {
  static constexpr std::array<std::string_view, 5> kTypes = {"text", "markdown", "actionCard",
                                                             "feedCard", "link"};
  // Unbounded nesting would overflow the stack in the parser (common/json.hpp).
  if (json::nests_deeper_than(reply)) return false;
  rapidjson::Document doc;
  doc.Parse(reply.data(), reply.size());
  if (doc.HasParseError() || !doc.IsObject()) return false;
  std::optional<std::string_view> type = json::string_member(doc, "msgtype");
  if (!type) return false;
  for (std::string_view known : kTypes) {
    if (*type == known) return true;
  }
  return false;
}

Result<Request> LegacyRobotFormat::build(const DeliveryInput& input) const {
  Request request;
  request.url = input.url;
  request.timeout = input.route.timeout;
  request.body = input.frame.data;
  const std::string timestamp = std::to_string(input.now_ms);
  // The header set of DingTalk's robot push (legacy-http.md 2.1), in its order.
  request.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  request.headers.emplace_back("timestamp", timestamp);
  request.headers.emplace_back("sign", robot_signature(input.client_secret, timestamp));
  finish_request(input.route, input.idempotency_key, input.now_ms, request);
  return request;
}

ReplyVerdict LegacyRobotFormat::judge(const config::Route&, std::string_view,
                                      const Response& response) const {
  return ReplyVerdict::ok(is_robot_reply_message(response.body) ? response.body : std::string());
}

}  // namespace dsb::deliver
