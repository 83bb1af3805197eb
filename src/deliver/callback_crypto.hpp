// DingTalk's HTTP-push event crypto ("DingCallbackCrypto"; reference/legacy-http.md 1.3-1.5):
// AES-256-CBC with the IV taken from the key, a 32-byte PKCS#7-style pad, and a SHA-1
// signature over the sorted token, timestamp, nonce and ciphertext. OpenSSL EVP only.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.hpp"

namespace dsb::deliver {

// The pad block of the scheme: DingTalk pads to 32 bytes although AES blocks are 16.
inline constexpr size_t kCallbackPadBlock = 32;

// lowercase hex SHA-1 of the four strings sorted bytewise and joined with no separator.
// Each string is used exactly as sent (the timestamp is opaque text; `encrypt` may carry
// the newlines some libraries put in it).
std::string callback_signature(std::string_view token, std::string_view timestamp,
                               std::string_view nonce, std::string_view encrypt);

// A decrypted message, before the owner key is judged.
struct OpenedMessage {
  std::string random;     // the 16-byte prefix
  std::string message;    // the length-prefixed UTF-8 message
  std::string owner_key;  // whatever follows the message up to the pad
};

class CallbackCrypto {
 public:
  // `aes_key` is the 43-character EncodingAESKey; key bytes = Base64(aes_key + "="),
  // decoded leniently. Fails unless that gives exactly 32 bytes. `owner_key` is the appKey,
  // corpId or suiteKey the app was configured with.
  static Result<CallbackCrypto> create(std::string token, std::string_view aes_key,
                                       std::string owner_key);

  // Base64 ciphertext of random16 | uint32be(len(message)) | message | owner_key | pad.
  // REQUIRES: random16.size() == 16.
  std::string encrypt(std::string_view random16, std::string_view message) const;

  // Reverses encrypt() and checks every part: Base64, block length, pad (each pad byte
  // equal, value 1..32), the length field, and the owner key. Whitespace in `encrypt` is
  // ignored. The error says which check failed.
  Result<std::string> decrypt(std::string_view encrypt) const;
  // decrypt() without the owner key check.
  Result<OpenedMessage> open(std::string_view encrypt) const;

  std::string sign(std::string_view timestamp, std::string_view nonce,
                   std::string_view encrypt) const {
    return callback_signature(token_, timestamp, nonce, encrypt);
  }
  // Case-insensitive hex comparison in constant time.
  bool verify(std::string_view signature, std::string_view timestamp, std::string_view nonce,
              std::string_view encrypt) const;

  const std::string& owner_key() const { return owner_key_; }

 private:
  CallbackCrypto(std::string token, std::string key, std::string owner_key)
      : token_(std::move(token)), key_(std::move(key)), owner_key_(std::move(owner_key)) {}

  std::string token_;
  std::string key_;  // 32 bytes; the IV is its first 16
  std::string owner_key_;
};

}  // namespace dsb::deliver
