// legacy-event reply handling with a fixed token / aes_key / owner key (vector V3 of
// reference/legacy-http.md 1.10), on arbitrary bytes read four ways:
//   1. as the webhook's reply body, judged as the relay judges it;
//   2. as an `encrypt` value: lenient Base64, then open/decrypt;
//   3. as the plaintext the app encrypted (AES-CBC under the route's key, no padding of our
//      own), so the pad, length and owner-key checks see bytes the fuzzer chooses; the
//      result is signed and judged as a whole reply, which must then pass the signature;
//   4. as a message: encrypt() then decrypt() must give it back.
#include <openssl/evp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/json.hpp"
#include "common/base64.hpp"
#include "deliver/callback_crypto.hpp"
#include "deliver/legacy_event_format.hpp"
#include "fuzz_fixtures.hpp"
#include "fuzz_support.hpp"

using namespace dsb;
using namespace dsb::deliver;
using dsb::Result;

namespace {

using dsb::fuzz::kLegacyAesKey;
using dsb::fuzz::kLegacyOwnerKey;
using dsb::fuzz::kLegacyToken;
const char* const kTimestamp = "1700000001234";
const char* const kNonce = "pOiUyTrEwQ123456";

const CallbackCrypto& crypto() {
  static const CallbackCrypto c =
      CallbackCrypto::create(kLegacyToken, kLegacyAesKey, kLegacyOwnerKey).value();
  return c;
}

// judge() never uses its RandomSource; one that fails loudly keeps it honest.
class NoRandom : public RandomSource {
 public:
  std::string alphanumeric(std::size_t) override { std::abort(); }
};

ReplyVerdict judge(std::string body) {
  static NoRandom random;
  static const LegacyEventFormat format(random);
  Response response;
  response.status = 200;
  response.body = std::move(body);
  ReplyVerdict verdict = format.judge(dsb::fuzz::legacy_route(), "dingclientid", response);
  FUZZ_CHECK(verdict.delivered == verdict.reason.empty());
  FUZZ_CHECK(verdict.reply.empty());
  return verdict;
}

// AES-256-CBC of `plain` under the route's key and IV, no OpenSSL padding.
// REQUIRES: plain.size() % 16 == 0.
std::string seal_raw(std::string_view plain) {
  static const std::string key = base64_decode(kLegacyAesKey).value();
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      EVP_CIPHER_CTX_free);
  const auto* k = reinterpret_cast<const unsigned char*>(key.data());
  FUZZ_CHECK(ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, k, k) == 1);
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
  std::string out(plain.size() + 16, '\0');
  int n = 0;
  int m = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  FUZZ_CHECK(EVP_EncryptUpdate(ctx.get(), o, &n, reinterpret_cast<const unsigned char*>(plain.data()),
                               static_cast<int>(plain.size())) == 1);
  FUZZ_CHECK(EVP_EncryptFinal_ex(ctx.get(), o + n, &m) == 1);
  out.resize(static_cast<size_t>(n + m));
  return out;
}

std::string signed_reply(const std::string& encrypt) {
  return "{\"msg_signature\":" + dsb::json::quote(crypto().sign(kTimestamp, kNonce, encrypt)) +
         ",\"timeStamp\":\"" + kTimestamp + "\",\"nonce\":\"" + kNonce +
         "\",\"encrypt\":" + dsb::json::quote(encrypt) + "}";
}

void check_base64(std::string_view text) {
  std::optional<std::string> decoded = base64_decode(text);
  if (!decoded) return;
  // Lenient decoding still yields bytes whose canonical encoding decodes to them again.
  const std::string encoded = base64_encode(*decoded);
  FUZZ_CHECK(encoded.size() % 4 == 0);
  std::optional<std::string> again = base64_decode(encoded);
  FUZZ_CHECK(again && *again == *decoded);
}

void check_open(std::string_view encrypt) {
  Result<OpenedMessage> opened = crypto().open(encrypt);
  Result<std::string> message = crypto().decrypt(encrypt);
  FUZZ_CHECK(!message.is_ok() || opened.is_ok());
  if (opened) {
    FUZZ_CHECK(opened->random.size() == 16);
    FUZZ_CHECK(message.is_ok() == (opened->owner_key == kLegacyOwnerKey));
    if (message) FUZZ_CHECK(message.value() == opened->message);
  }
}

void check_chosen_plaintext(std::string_view bytes) {
  std::string plain(bytes);
  plain.resize((plain.size() + 15) / 16 * 16, '\0');
  if (plain.empty()) return;
  const std::string encrypt = base64_encode(seal_raw(plain));
  check_open(encrypt);
  const ReplyVerdict verdict = judge(signed_reply(encrypt));
  // The signature is right by construction: only the decryption or the message may refuse
  // it. (The reason quotes the message, so it may well contain "msg_signature".)
  FUZZ_CHECK(verdict.delivered || verdict.reason.starts_with("event reply: ") ||
             verdict.reason.starts_with("event reply decrypts to \""));
  Result<std::string> message = crypto().decrypt(encrypt);
  FUZZ_CHECK(verdict.delivered == (message.is_ok() && message.value() == "success"));
}

void check_round_trip(std::string_view message) {
  const std::string encrypt = crypto().encrypt("MnBvCxZlKjHgFdSa", message);
  FUZZ_CHECK(!encrypt.empty());
  Result<std::string> back = crypto().decrypt(encrypt);
  FUZZ_CHECK(back.is_ok() && back.value() == message);
  FUZZ_CHECK(judge(signed_reply(encrypt)).delivered == (message == "success"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return dsb::fuzz::guarded([&] {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    judge(std::string(bytes));
    check_base64(bytes);
    check_open(bytes);
    check_chosen_plaintext(bytes);
    check_round_trip(bytes);
  });
}
