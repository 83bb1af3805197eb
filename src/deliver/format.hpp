// A route's `format` (product.md section 5) is two pure functions: how a frame becomes the
// HTTP request a webhook expects, and how that webhook's 2xx answer is read. The relay
// calls them; nothing here sends anything.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.hpp"
#include "config/config.hpp"
#include "deliver/http_client.hpp"
#include "deliver/request.hpp"
#include "stream/frame.hpp"

namespace dsb::deliver {

// Everything a request is built from. References must outlive the build() call only.
struct DeliveryInput {
  const config::Route& route;
  const std::string& url;  // one of route.urls
  const stream::Frame& frame;
  // The frame's eventId, msgId or messageId, unprefixed (raw's Idempotency-Key).
  std::string_view idempotency_key;
  int64_t now_ms;                  // wall time: timestamps and signatures
  std::string_view client_id;      // dingtalk.client_id: legacy-event's default owner key
  std::string_view client_secret;  // dingtalk.client_secret: legacy-robot's sign key
};

// What an answer means. Non-2xx and transport failures reach only a format that
// judges_every_answer(); for the others they are failed deliveries by rule.
struct ReplyVerdict {
  bool delivered = false;
  std::string reason;  // why not delivered; "" when delivered
  // The answer to pass on, "" for none: the callback's response JSON (card ACK data) or the
  // robot message to post to sessionWebhook. A callback is ACKed with a failed verdict's
  // reply too when it has one (format graph passes a 503 on).
  std::string reply;

  static ReplyVerdict ok(std::string reply = {}) { return ReplyVerdict{true, {}, std::move(reply)}; }
  static ReplyVerdict failed(std::string reason, std::string reply = {}) {
    return ReplyVerdict{false, std::move(reason), std::move(reply)};
  }
};

class WebhookFormat {
 public:
  virtual ~WebhookFormat() = default;

  // Fails only when the route's settings or the frame's data cannot make the request (e.g.
  // legacy-event data that is not a JSON object); the caller counts that as a failed
  // delivery and does not retry it any differently.
  virtual Result<Request> build(const DeliveryInput& input) const = 0;

  // REQUIRES: response.is_2xx(), unless judges_every_answer(). `client_id` as in
  // DeliveryInput.
  virtual ReplyVerdict judge(const config::Route& route, std::string_view client_id,
                             const Response& response) const = 0;

  // True for a format whose reply carries the HTTP status (graph): judge() then reads every
  // answer, non-2xx and failures below HTTP (status 0) included.
  virtual bool judges_every_answer() const { return false; }

  // The callback reply for a failure of the bridge's own, when the format has one:
  // `status` is HTTP-shaped (400 build() refused the frame, 503 shutting down, 504 the
  // route's timeout passed), `reason` a short text. nullopt (every format but graph): the
  // callback is ACKed with an error code instead.
  virtual std::optional<std::string> failure_reply(int /*status*/,
                                                   std::string_view /*reason*/) const {
    return std::nullopt;
  }

  // The dsb_frames_malformed_total reason under which a build() failure is counted (the
  // frame's data is at fault), "" when it is not counted as one.
  virtual std::string_view malformed_label() const { return {}; }
};


// The process-wide instance for `format` (stateless; nonces from system_random()).
const WebhookFormat& format_for(config::Format format);

// For implementations: appends the route's static headers (never replacing one already
// set, compared case-insensitively), then, when the route has a signing_secret, the
// signature headers of its `signing` over the final body:
//   bridge-v1          X-Bridge-Timestamp (ms), X-Bridge-Signature (section 5)
//   standard-webhooks  webhook-id (= `message_id`), webhook-timestamp (s), webhook-signature
//                      (section 11)
// `message_id` is the Idempotency-Key value (DeliveryInput::idempotency_key).
void finish_request(const config::Route& route, std::string_view message_id, int64_t now_ms,
                    Request& request);

}  // namespace dsb::deliver
