// `format: legacy-event` (product.md section 5; reference/legacy-http.md section 1): what
// DingTalk's HTTP-mode event push sent:
//
//   POST url?signature=S&msg_signature=S&timestamp=T&nonce=N   {"encrypt":"<base64>"}
//
// with the CallbackCrypto scheme, keyed by the route's legacy.token / legacy.aes_key, and
// owner key legacy.owner_key (default: the client id). Both `signature` and
// `msg_signature` are sent because app libraries read one or the other (1.2). The app must
// answer the encrypted word `success` (1.5).
#pragma once

#include <string>
#include <string_view>

#include "deliver/format.hpp"
#include "deliver/random.hpp"

namespace dsb::deliver {

// The new-style plaintext of 1.8/1.9: EventType (header eventType), EventTime
// (eventBornTime, a JSON number when it is digits), CorpId (eventCorpId), eventId, then
// every member of the frame's data, byte for byte, in order. A header field that is absent,
// or that data already carries under the same name, is left out. BizId has no Stream
// source and is not invented. Fails when data is not a JSON object.
Result<std::string> event_plaintext(const stream::Frame& frame);

// legacy.owner_key, or the client id when that is empty.
std::string_view event_owner_key(const config::Route& route, std::string_view client_id);

// `url` with the four signature parameters appended (after "?" or "&", before any "#").
std::string signed_event_url(std::string_view url, std::string_view signature,
                             std::string_view timestamp, std::string_view nonce);

class LegacyEventFormat : public WebhookFormat {
 public:
  // `random` supplies the 8-character nonce and the 16-byte prefix; it must outlive this.
  explicit LegacyEventFormat(RandomSource& random) : random_(random) {}

  Result<Request> build(const DeliveryInput& input) const override;
  // Delivered only when the body is a JSON object with string `msg_signature`, `nonce`,
  // `encrypt` and a `timeStamp` (string or number, signed as its exact text), the signature
  // verifies over the exact `encrypt` text, and it decrypts (pad, length, owner key) to
  // exactly `success`. Each failure has its own reason. reply is always "".
  ReplyVerdict judge(const config::Route& route, std::string_view client_id,
                     const Response& response) const override;

  // The check_url push (1.7) an app must answer like any event: {"EventType":"check_url"}.
  // For proving a route's token / aes_key / owner key at start-up.
  Result<Request> build_check_url(const config::Route& route, const std::string& url,
                                  int64_t now_ms, std::string_view client_id) const;

 private:
  // `message_id`: the webhook-id of a standard-webhooks route (finish_request).
  Result<Request> build_for(const config::Route& route, const std::string& url, int64_t now_ms,
                            std::string_view client_id, std::string_view message_id,
                            std::string_view plaintext) const;

  RandomSource& random_;
};

}  // namespace dsb::deliver
