#include "deliver/signature.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/base64.hpp"

namespace dsb::deliver {

std::string hmac_sha256(std::string_view key, std::string_view message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string hex_lower(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0xf];
  }
  return out;
}

std::string bridge_signature(std::string_view secret, std::string_view timestamp_ms,
                             std::string_view body) {
  std::string message;
  message.reserve(timestamp_ms.size() + 1 + body.size());
  message.append(timestamp_ms).append(".").append(body);
  return "v1=" + hex_lower(hmac_sha256(secret, message));
}

std::string standard_webhooks_signature(std::string_view key, std::string_view msg_id,
                                        std::string_view timestamp_s, std::string_view body) {
  std::string message;
  message.reserve(msg_id.size() + 1 + timestamp_s.size() + 1 + body.size());
  message.append(msg_id).append(".").append(timestamp_s).append(".").append(body);
  return "v1," + base64_encode(hmac_sha256(key, message));
}

std::string robot_signature(std::string_view client_secret, std::string_view timestamp_ms) {
  std::string message;
  message.reserve(timestamp_ms.size() + 1 + client_secret.size());
  message.append(timestamp_ms).append("\n").append(client_secret);
  return base64_encode(hmac_sha256(client_secret, message));
}

std::string card_signature(std::string_view api_secret, std::string_view timestamp_ms) {
  return base64_encode(hmac_sha256(api_secret, timestamp_ms));
}

}  // namespace dsb::deliver
