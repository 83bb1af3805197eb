#include "deliver/legacy_card_format.hpp"

#include <rapidjson/document.h>

#include "common/json.hpp"
#include "deliver/signature.hpp"

namespace dsb::deliver {

Result<Request> LegacyCardFormat::build(const DeliveryInput& input) const {
  Request request;
  request.url = input.url;
  request.timeout = input.route.timeout;
  request.body = input.frame.data;
  request.headers.emplace_back("Content-Type", "application/json");
  const std::string& api_secret = input.route.legacy.api_secret;
  if (!api_secret.empty()) {
    const std::string timestamp = std::to_string(input.now_ms);
    request.headers.emplace_back("x-ddpaas-signature-timestamp", timestamp);
    request.headers.emplace_back("x-ddpaas-signature", card_signature(api_secret, timestamp));
  }
  finish_request(input.route, input.idempotency_key, input.now_ms, request);
  return request;
}

ReplyVerdict LegacyCardFormat::judge(const config::Route&, std::string_view,
                                     const Response& response) const {
  const std::string& body = response.body;
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return ReplyVerdict::ok();
  // Unbounded nesting would overflow the stack in the parser (common/json.hpp).
  if (json::nests_deeper_than(body)) return ReplyVerdict::failed("card reply nests too deep");
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError()) return ReplyVerdict::failed("card reply is not JSON");
  if (!doc.IsObject()) return ReplyVerdict::failed("card reply is not a JSON object");
  return ReplyVerdict::ok(body);
}

}  // namespace dsb::deliver
