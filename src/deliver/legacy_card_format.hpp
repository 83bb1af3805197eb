// `format: legacy-card` (product.md section 5; reference/legacy-http.md section 3): what
// DingTalk's interactive-card HTTP callback sent. Body = the Stream callback data unchanged
// (a superset of the HTTP body: type, outTrackId, corpId, userId, content, plus Stream's
// extension/value/space* fields); with legacy.api_secret, headers
// `x-ddpaas-signature-timestamp` (ms) and `x-ddpaas-signature` (card_signature).
// The app's answer ({cardData, userPrivateData, cardUpdateOptions}) is the callback response.
#pragma once

#include "deliver/format.hpp"

namespace dsb::deliver {

class LegacyCardFormat : public WebhookFormat {
 public:
  // Never fails.
  Result<Request> build(const DeliveryInput& input) const override;
  // A JSON object: delivered, reply = the body. An empty (or all-whitespace) body: delivered
  // with no reply, i.e. "leave the card as it is". Anything else is not delivered.
  ReplyVerdict judge(const config::Route& route, std::string_view client_id,
                     const Response& response) const override;
};

}  // namespace dsb::deliver
