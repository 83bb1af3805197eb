#include "deliver/legacy_event_format.hpp"

#include "common/text.hpp"

#include <rapidjson/document.h>

#include <optional>
#include <utility>
#include <vector>

#include "common/json.hpp"
#include "deliver/callback_crypto.hpp"

namespace dsb::deliver {
namespace {

constexpr size_t kNonceLength = 8;    // as DingTalk's own nonces (legacy-http.md 1.2)
constexpr size_t kRandomLength = 16;

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::string clip(std::string_view text) { return printable_excerpt(text, 40); }

}  // namespace

Result<std::string> event_plaintext(const stream::Frame& frame) {
  rapidjson::Document data;
  data.Parse(frame.data.data(), frame.data.size());
  if (data.HasParseError() || !data.IsObject()) {
    return Result<std::string>::error("event data is not a JSON object");
  }
  std::vector<std::pair<const char*, std::string>> fields;  // name -> JSON value text
  auto add = [&](const char* name, std::string_view header, bool numeric_if_digits) {
    const std::string_view value = frame.header(header);
    if (value.empty() || data.HasMember(name)) return;
    fields.emplace_back(name, numeric_if_digits && all_digits(value) ? std::string(value)
                                                                    : json::quote(value));
  };
  add("EventType", "eventType", false);
  add("EventTime", "eventBornTime", true);
  add("CorpId", "eventCorpId", false);
  add("eventId", "eventId", false);

  // The data's members are spliced in as text, not re-serialized, so numbers, escapes and
  // key order stay exactly as DingTalk wrote them.
  std::string_view members = trim(frame.data);
  members = trim(members.substr(1, members.size() - 2));  // inside the braces
  std::string out = "{";
  for (const auto& [name, value] : fields) {
    if (out.size() > 1) out += ',';
    out += json::quote(name);
    out += ':';
    out += value;
  }
  if (!members.empty()) {
    if (out.size() > 1) out += ',';
    out += members;
  }
  out += '}';
  return out;
}

std::string_view event_owner_key(const config::Route& route, std::string_view client_id) {
  return route.legacy.owner_key.empty() ? client_id : std::string_view(route.legacy.owner_key);
}

std::string signed_event_url(std::string_view url, std::string_view signature,
                             std::string_view timestamp, std::string_view nonce) {
  const size_t fragment = url.find('#');
  std::string_view base = url.substr(0, fragment);
  std::string out(base);
  if (base.find('?') == std::string_view::npos) {
    out += '?';
  } else if (base.back() != '?' && base.back() != '&') {
    out += '&';
  }
  // Values are hex, digits and [A-Za-z0-9]: nothing to percent-encode.
  out.append("signature=").append(signature);
  out.append("&msg_signature=").append(signature);
  out.append("&timestamp=").append(timestamp);
  out.append("&nonce=").append(nonce);
  if (fragment != std::string_view::npos) out.append(url.substr(fragment));
  return out;
}

Result<Request> LegacyEventFormat::build(const DeliveryInput& input) const {
  Result<std::string> plaintext = event_plaintext(input.frame);
  if (!plaintext) return plaintext.status();
  return build_for(input.route, input.url, input.now_ms, input.client_id, input.idempotency_key,
                   plaintext.value());
}

Result<Request> LegacyEventFormat::build_check_url(const config::Route& route,
                                                   const std::string& url, int64_t now_ms,
                                                   std::string_view client_id) const {
  // No frame, so no Idempotency-Key: the push is told apart by its time.
  return build_for(route, url, now_ms, client_id, "check_url_" + std::to_string(now_ms),
                   R"({"EventType":"check_url"})");
}

Result<Request> LegacyEventFormat::build_for(const config::Route& route, const std::string& url,
                                             int64_t now_ms, std::string_view client_id,
                                             std::string_view message_id,
                                             std::string_view plaintext) const {
  Result<CallbackCrypto> crypto = CallbackCrypto::create(
      route.legacy.token, route.legacy.aes_key, std::string(event_owner_key(route, client_id)));
  if (!crypto) return Result<Request>::error("legacy.aes_key: " + crypto.status().message());
  const std::string timestamp = std::to_string(now_ms);
  const std::string nonce = random_.alphanumeric(kNonceLength);
  const std::string encrypt = crypto->encrypt(random_.alphanumeric(kRandomLength), plaintext);
  if (encrypt.empty()) return Result<Request>::error("AES encryption failed");
  const std::string signature = crypto->sign(timestamp, nonce, encrypt);

  Request request;
  request.url = signed_event_url(url, signature, timestamp, nonce);
  request.timeout = route.timeout;
  request.body = "{\"encrypt\":" + json::quote(encrypt) + "}";
  request.headers.emplace_back("Content-Type", "application/json");
  finish_request(route, message_id, now_ms, request);
  return request;
}

ReplyVerdict LegacyEventFormat::judge(const config::Route& route, std::string_view client_id,
                                      const Response& response) const {
  if (json::nests_deeper_than(response.body)) {
    return ReplyVerdict::failed("event reply nests deeper than " + std::to_string(json::kMaxDepth) +
                                " levels");
  }
  rapidjson::Document reply;
  // Numbers kept as their text: PHP's time() arrives as a JSON number and is signed as
  // its decimal form.
  reply.Parse<rapidjson::kParseNumbersAsStringsFlag>(response.body.data(), response.body.size());
  if (reply.HasParseError()) return ReplyVerdict::failed("event reply is not JSON");
  if (!reply.IsObject()) return ReplyVerdict::failed("event reply is not a JSON object");
  std::optional<std::string_view> fields[4];
  static constexpr const char* kNames[4] = {"msg_signature", "timeStamp", "nonce", "encrypt"};
  for (int i = 0; i < 4; ++i) {
    // A number is kept as the text the app signed: the parse keeps numbers as strings.
    fields[i] = json::string_member(reply, kNames[i]);
    if (!fields[i]) {
      const bool present = reply.HasMember(kNames[i]);
      return ReplyVerdict::failed(std::string("event reply ") +
                                  (present ? "has a non-text " : "has no ") + kNames[i]);
    }
  }
  const auto& [signature, timestamp, nonce, encrypt] = fields;

  Result<CallbackCrypto> crypto = CallbackCrypto::create(
      route.legacy.token, route.legacy.aes_key, std::string(event_owner_key(route, client_id)));
  if (!crypto) return ReplyVerdict::failed("legacy.aes_key: " + crypto.status().message());
  if (!crypto->verify(*signature, *timestamp, *nonce, *encrypt)) {
    return ReplyVerdict::failed("event reply msg_signature does not verify (wrong token?)");
  }
  Result<std::string> message = crypto->decrypt(*encrypt);
  if (!message) return ReplyVerdict::failed("event reply: " + message.status().message());
  if (message.value() != "success") {
    return ReplyVerdict::failed("event reply decrypts to \"" + clip(message.value()) +
                                "\", not \"success\"");
  }
  return ReplyVerdict::ok();
}

}  // namespace dsb::deliver
