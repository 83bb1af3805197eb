// `format: raw` (product.md section 5): the frame's data as the body, its metadata as
// X-DingTalk-* headers, an Idempotency-Key, and optionally an X-Bridge-Signature.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "deliver/format.hpp"
#include "deliver/request.hpp"
#include "stream/frame.hpp"

namespace dsb::deliver {

// REQUIRES: `url` is one of route.urls. `idempotency_key` is the frame's eventId, msgId or
// messageId, unprefixed. `now_ms` is wall time, used for X-Bridge-Timestamp.
Request build_raw_request(const config::Route& route, const std::string& url,
                          const stream::Frame& frame, std::string_view idempotency_key,
                          int64_t now_ms);

// build = build_raw_request (never fails). judge: every 2xx is delivered and the whole body
// is the reply; whether a callback's reply is usable JSON, or a robot's reply a message, is
// the caller's rule for raw webhooks.
class RawFormat : public WebhookFormat {
 public:
  Result<Request> build(const DeliveryInput& input) const override;
  ReplyVerdict judge(const config::Route& route, std::string_view client_id,
                     const Response& response) const override;
};

}  // namespace dsb::deliver
