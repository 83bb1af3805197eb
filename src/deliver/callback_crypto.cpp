#include "deliver/callback_crypto.hpp"

#include "common/text.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>

#include "common/base64.hpp"
#include "deliver/signature.hpp"

namespace dsb::deliver {
namespace {

constexpr size_t kKeyBytes = 32;
constexpr size_t kRandomBytes = 16;
constexpr size_t kLengthBytes = 4;

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};

// AES-256-CBC with the scheme's IV and no OpenSSL padding (the scheme pads by itself).
// REQUIRES: input.size() % 16 == 0. False only when OpenSSL fails.
bool aes_cbc(bool encrypting, const std::string& key, std::string_view input, std::string& out) {
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return false;
  const auto* key_bytes = reinterpret_cast<const unsigned char*>(key.data());
  if (EVP_CipherInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, key_bytes, key_bytes,
                        encrypting ? 1 : 0) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) {
    return false;
  }
  out.assign(input.size() + 16, '\0');
  int written = 0;
  int final_written = 0;
  auto* out_bytes = reinterpret_cast<unsigned char*>(out.data());
  if (EVP_CipherUpdate(ctx.get(), out_bytes, &written,
                       reinterpret_cast<const unsigned char*>(input.data()),
                       static_cast<int>(input.size())) != 1 ||
      EVP_CipherFinal_ex(ctx.get(), out_bytes + written, &final_written) != 1) {
    return false;
  }
  out.resize(static_cast<size_t>(written + final_written));
  return true;
}

std::string sha1(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha1(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest.data()), length);
}

// Printable excerpt of arbitrary text, for error messages.
std::string excerpt(std::string_view text) { return printable_excerpt(text, 40); }

}  // namespace

std::string callback_signature(std::string_view token, std::string_view timestamp,
                               std::string_view nonce, std::string_view encrypt) {
  std::array<std::string_view, 4> parts{token, timestamp, nonce, encrypt};
  std::sort(parts.begin(), parts.end());  // string_view compares bytewise (char_traits<char>)
  std::string joined;
  joined.reserve(token.size() + timestamp.size() + nonce.size() + encrypt.size());
  for (std::string_view part : parts) joined.append(part);
  return hex_lower(sha1(joined));
}

Result<CallbackCrypto> CallbackCrypto::create(std::string token, std::string_view aes_key,
                                              std::string owner_key) {
  // The "=" of Base64(aes_key + "=") is the padding base64_decode implies anyway.
  std::optional<std::string> key = base64_decode(aes_key);
  if (!key) return Result<CallbackCrypto>::error("aes_key is not Base64");
  if (key->size() != kKeyBytes) {
    return Result<CallbackCrypto>::error("aes_key decodes to " + std::to_string(key->size()) +
                                         " bytes, not 32 (it must be 43 characters)");
  }
  return CallbackCrypto(std::move(token), std::move(*key), std::move(owner_key));
}

std::string CallbackCrypto::encrypt(std::string_view random16, std::string_view message) const {
  std::string plain;
  plain.reserve(kRandomBytes + kLengthBytes + message.size() + owner_key_.size() + kCallbackPadBlock);
  plain.append(random16);
  const auto length = static_cast<uint32_t>(message.size());
  for (int shift = 24; shift >= 0; shift -= 8) plain += static_cast<char>((length >> shift) & 0xff);
  plain.append(message);
  plain.append(owner_key_);
  const size_t pad = kCallbackPadBlock - plain.size() % kCallbackPadBlock;  // 1..32, never 0
  plain.append(pad, static_cast<char>(pad));

  std::string cipher;
  if (!aes_cbc(true, key_, plain, cipher)) return "";  // only on allocation failure in OpenSSL
  return base64_encode(cipher);
}

Result<OpenedMessage> CallbackCrypto::open(std::string_view encrypt) const {
  using R = Result<OpenedMessage>;
  std::optional<std::string> cipher = base64_decode(encrypt);
  if (!cipher) return R::error("encrypt is not valid Base64");
  if (cipher->empty() || cipher->size() % 16 != 0) {
    return R::error("ciphertext is " + std::to_string(cipher->size()) +
                    " bytes, not a non-zero multiple of the AES block (16)");
  }
  std::string plain;
  if (!aes_cbc(false, key_, *cipher, plain)) return R::error("AES decryption failed");

  const auto pad = static_cast<unsigned char>(plain.back());
  if (pad == 0 || pad > kCallbackPadBlock || pad > plain.size()) {
    return R::error("bad padding (last byte " + std::to_string(pad) +
                    "; wrong aes_key or not DingTalk's scheme)");
  }
  for (size_t i = plain.size() - pad; i < plain.size(); ++i) {
    if (static_cast<unsigned char>(plain[i]) != pad) {
      return R::error("bad padding (pad bytes differ; wrong aes_key or corrupted ciphertext)");
    }
  }
  plain.resize(plain.size() - pad);
  if (plain.size() < kRandomBytes + kLengthBytes) {
    return R::error("plaintext is " + std::to_string(plain.size()) +
                    " bytes, too short for the random prefix and length field");
  }
  uint32_t length = 0;
  for (size_t i = 0; i < kLengthBytes; ++i) {
    length = (length << 8) | static_cast<unsigned char>(plain[kRandomBytes + i]);
  }
  const size_t available = plain.size() - kRandomBytes - kLengthBytes;
  if (length > available) {
    return R::error("length field says " + std::to_string(length) + " bytes but only " +
                    std::to_string(available) + " follow");
  }
  OpenedMessage opened;
  opened.random = plain.substr(0, kRandomBytes);
  opened.message = plain.substr(kRandomBytes + kLengthBytes, length);
  opened.owner_key = plain.substr(kRandomBytes + kLengthBytes + length);
  return opened;
}

Result<std::string> CallbackCrypto::decrypt(std::string_view encrypt) const {
  Result<OpenedMessage> opened = open(encrypt);
  if (!opened) return opened.status();
  if (opened->owner_key != owner_key_) {
    return Result<std::string>::error("owner key \"" + excerpt(opened->owner_key) +
                                      "\" in the ciphertext is not the configured \"" +
                                      excerpt(owner_key_) + "\"");
  }
  return std::move(opened->message);
}

bool CallbackCrypto::verify(std::string_view signature, std::string_view timestamp,
                            std::string_view nonce, std::string_view encrypt) const {
  const std::string expected = sign(timestamp, nonce, encrypt);
  if (signature.size() != expected.size()) return false;
  std::string lowered(signature);
  for (char& c : lowered) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
  }
  return CRYPTO_memcmp(lowered.data(), expected.data(), expected.size()) == 0;
}

}  // namespace dsb::deliver
