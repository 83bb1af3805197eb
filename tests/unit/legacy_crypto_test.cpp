// DingTalk's HTTP-push event crypto against every vector of reference/legacy-http.md 1.10:
// the three official ones (O1-O3) and the bridge's own (V1-V4), in both directions, plus
// each way a ciphertext can be wrong.
#include <catch2/catch.hpp>

#include <openssl/evp.h>

#include <string>

#include "common/base64.hpp"
#include "deliver/callback_crypto.hpp"
#include "deliver/signature.hpp"

using namespace dsb;
using namespace dsb::deliver;

namespace {

struct Vector {
  const char* name;
  const char* token;
  const char* aes_key;
  const char* owner_key;
  const char* timestamp;
  const char* nonce;
  const char* random;
  std::string plaintext;
  const char* encrypt;
  const char* signature;
};

const char* const kBridgeKey = "Wq3mZ8vK2pT7rX9yB4nC6dF1hJ5gL0sA2eR8tY3uI7o";

// Every vector of legacy-http.md 1.10, copied from the document.
const Vector kVectors[] = {
    {"O1", "123456", "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij", "suite4xxxxxxxxxxxxxxx",
     "1445827045067", "nEXhMP4r", "hU3bEfGZZewzhG5a",
     R"({"EventType":"check_create_suite_url","Random":"LPIdSnlF","TestSuiteKey":"suite4xxxxxxxxxxxxxxx"})",
     "1a3NBxmCFwkCJvfoQ7WhJHB+iX3qHPsc9JbaDznE1i03peOk1LaOQoRz3+nlyGNhwmwJ3vDMG+OzrHMeiZI7gTRWVdUBmfxjZ8Ej23JVYa9VrYeJ5as7XM/ZpulX8NEQis44w53h1qAgnC3PRzM7Zc/D6Ibr0rgUathB6zRHP8PYrfgnNOS9PhSBdHlegK+AGGanfwjXuQ9+0pZcy0w9lQ==",
     "5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0"},
    {"O2", "123456", "1234567890123456789012345678901234567890123", "dingsnotzck6pm5veliw",
     "1614767836", "A7Co0cJLMzIDtMMI", "dICkEDLj0eb6yAbc", "success",
     "YvkvaGe4hQxd3VxRmEty0dVlnCOAqwf56xwTRHDHoOURqhalbmBJQk5FNcRk42Gl5T0YQXZNwpwWSm1xAFJ5ZA==",
     "9a95a004dd16f5c307e849b994173f76aa26e5eb"},
    {"O3", "mryue", "Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7", "ding6ccabc44d2c8d38b",
     "1608001896814", "WL4PK6yA", "l7Y3EcX2CU5w8av3", R"({"EventType":"check_url"})",
     "0vJiX6vliEpwG3U45CtXqi+m8PXbQRARJ8p8BbDuD1EMTDf0jKpQ79QS93qEk7XHpP6u+oTTrd15NRPvNvmBKyDCYxxOK+HZeKju4yhELOFchzNukR+t8SB/qk4ROMu3",
     "03044561471240d4a14bb09372dfcfd4fd0e40cb"},
    {"V1", "bridgeToken123", kBridgeKey, "dingbridgeappkey0001", "1700000000000", "Ab3dE6gH",
     "aBcDeFgHiJkLmNoP",
     R"({"EventType":"user_add_org","EventTime":1700000000000,"CorpId":"ding0123456789abcdef0123456789abcdef","BizId":"user001","eventId":"0f1e2d3c4b5a69788796a5b4c3d2e1f0","timeStamp":"1700000000000","userId":["user001"]})",
     "w8gKnVejqHzNDbdzz3vm++33EJgHc+WXw5myAOswlVg5DHilb160y/rx5gDgkLfHeaxnFceiZgRVElBqHYwmZ7hAv5pfQ7Xhsv4Zwleg/gGb7Vao1f+BCcm0vikzbACtbO9QSqSiElctQJvxnj5pZCLOeM6KYH43L+TraQndgZlmYCgNmDxxhEvqj9rMlYWCspMb3B/hGrqjgbBkhXMd7gIRnuxstwSXb3OJmXQR2nErlMqS7jp1re7QwQjhT1IXQWXR84fK9JBIFmF12w3591qLk6Krtak6+XhVbfhf12wiungFZVzlksKWEj9/TihcnS9QSsWTbG+/4r1hiAG4kA==",
     "b902ec6d3e811fed4fdc0f8c44dc651ba92ce145"},
    {"V2", "bridgeToken123", kBridgeKey, "dingbridgeappkey0001", "1700000001000", "Zx9Cv8Bn",
     "QwErTyUiOpAsDfGh", R"({"EventType":"check_url"})",
     "IlOZUEkVGLak1aC4I9R//z2wZ8MRHxz7nCPLxc46mTurWUnd/Xn6cPhM6ei0NlcPD1HSXBuJxQWglukZS4w/bVdY1QG9YvesmMPRUgKsz52WW5UnNF4JNMHyQgjtj0OL",
     "62b08e924513428c9b42bbb8118acc7fd7a1acb1"},
    {"V3", "bridgeToken123", kBridgeKey, "dingbridgeappkey0001", "1700000001234",
     "pOiUyTrEwQ123456", "MnBvCxZlKjHgFdSa", "success",
     "1I3XfUq+b5XO/+Xw0ji6WOjl6v1KJeItseoMyyv/t0k56YPZnZgl1921UDKn5YQtUACwuMnVRTwt2qHf9TTvOw==",
     "8e65e2fcd2d231d3cfc5d3c759e4b9c72d5a93cf"},
    {"V4", "bridgeToken123", kBridgeKey, "dingbridgeappkey0001", "1700000002000", "Qq1Ww2Ee",
     "0123456789ABCDEF",
     "{\"EventType\":\"chat_update_title\",\"EventTime\":1700000002000,\"CorpId\":\"ding0123456789abcdef0123456789abcdef\",\"BizId\":\"chat676e50a07xxxx\",\"eventId\":\"aa\",\"timeStamp\":1700000002000,\"chatId\":\"chat676e50a07xxxx\",\"title\":\"\xE5\xBC\x80\xE6\x94\xBE\xE5\xB9\xB3\xE5\x8F\xB0\"}",
     "jEzAWHjzasA9Prt8cpqBunEvPZCNqJghvnJcQMd19z8meQKRvDAOeI3Y3bt0UpvpjiEc5/vK6nexe7lmKIwIluQv9FE3aNLWfmlMoa/6+rSan+knRxptMz//XM2fVUdSQv76SNMlXudZcKTWYVhLUvlGzQs8Ywlq5FrvYf0JD15za4WGD/2/z2SFUVqn/gcEiaklt5+XzqFGuUAK0GPmemJ2Q69k/swx9K2MUBFJyTPmrootBc+JUS2mWxR+3yvuPCP7QWXr7jlqNy+JL8mBNuTLeBwUK5ZGcSRmVfYFU5qdbAdQlEttoSN0nI8vQVBcU+25NPihfBgZEFBcDlYeuxHKPu1HQbEnDexX+FbQjJqHQ+Qnsagq8u2Q9UbSiBtU",
     "1ae6c50dedc8fa456c03d22d345598d01323ec9d"},
};

CallbackCrypto crypto_for(const Vector& v) {
  auto crypto = CallbackCrypto::create(v.token, v.aes_key, v.owner_key);
  REQUIRE(crypto.is_ok());
  return crypto.value();
}

std::string from_hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

// Test-side AES-256-CBC with the scheme's key and IV over an arbitrary (already padded)
// buffer, to make ciphertexts that CallbackCrypto::encrypt would never produce.
std::string seal_raw(std::string_view aes_key, const std::string& buffer) {
  const std::string key = base64_decode(std::string(aes_key) + "=").value();
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  const auto* k = reinterpret_cast<const unsigned char*>(key.data());
  REQUIRE(EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), nullptr, k, k) == 1);
  EVP_CIPHER_CTX_set_padding(ctx, 0);
  std::string out(buffer.size() + 16, '\0');
  int n = 0, m = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  REQUIRE(EVP_EncryptUpdate(ctx, o, &n, reinterpret_cast<const unsigned char*>(buffer.data()),
                            static_cast<int>(buffer.size())) == 1);
  REQUIRE(EVP_EncryptFinal_ex(ctx, o + n, &m) == 1);
  EVP_CIPHER_CTX_free(ctx);
  out.resize(static_cast<size_t>(n + m));
  return base64_encode(out);
}

// The V3 pre-encryption buffer of legacy-http.md, as printed there.
std::string v3_buffer() {
  return from_hex("4d6e427643785a6c4b6a486746645361" "00000007" "73756363657373"
                  "64696e676272696467656170706b657930303031") +
         std::string(17, '\x11');
}

const Vector& v3() { return kVectors[5]; }

}  // namespace

TEST_CASE("every legacy-http.md vector: encrypt with its random prefix gives its ciphertext",
          "[legacy][crypto]") {
  for (const Vector& v : kVectors) {
    INFO(v.name);
    CHECK(crypto_for(v).encrypt(v.random, v.plaintext) == v.encrypt);
  }
}

TEST_CASE("every legacy-http.md vector: decrypt gives its plaintext, prefix and owner key",
          "[legacy][crypto]") {
  for (const Vector& v : kVectors) {
    INFO(v.name);
    CallbackCrypto crypto = crypto_for(v);
    auto opened = crypto.open(v.encrypt);
    REQUIRE(opened.is_ok());
    CHECK(opened->random == v.random);
    CHECK(opened->message == v.plaintext);
    CHECK(opened->owner_key == v.owner_key);
    auto message = crypto.decrypt(v.encrypt);
    REQUIRE(message.is_ok());
    CHECK(message.value() == v.plaintext);
  }
}

TEST_CASE("every legacy-http.md vector: signature computed and verified", "[legacy][crypto]") {
  for (const Vector& v : kVectors) {
    INFO(v.name);
    CHECK(callback_signature(v.token, v.timestamp, v.nonce, v.encrypt) == v.signature);
    CallbackCrypto crypto = crypto_for(v);
    CHECK(crypto.sign(v.timestamp, v.nonce, v.encrypt) == v.signature);
    CHECK(crypto.verify(v.signature, v.timestamp, v.nonce, v.encrypt));
    std::string upper = v.signature;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(crypto.verify(upper, v.timestamp, v.nonce, v.encrypt));
    // Any one of the four inputs changed breaks it.
    CHECK_FALSE(crypto.verify(v.signature, std::string(v.timestamp) + "1", v.nonce, v.encrypt));
    CHECK_FALSE(crypto.verify(v.signature, v.timestamp, "x", v.encrypt));
    CHECK_FALSE(crypto.verify(v.signature, v.timestamp, v.nonce, std::string(v.encrypt) + "\n"));
    auto other_token = CallbackCrypto::create("other", v.aes_key, v.owner_key);
    CHECK_FALSE(other_token->verify(v.signature, v.timestamp, v.nonce, v.encrypt));
    CHECK_FALSE(crypto.verify(std::string(v.signature).substr(1), v.timestamp, v.nonce, v.encrypt));
  }
}

TEST_CASE("the documented sort order and pre-encryption buffer of V3", "[legacy][crypto]") {
  // legacy-http.md: sha1 of timeStamp + encrypt + token + nonce (the sorted order).
  const std::string joined = std::string("1700000001234") + v3().encrypt + "bridgeToken123" +
                             "pOiUyTrEwQ123456";
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(joined.data(), joined.size(), digest, &length, EVP_sha1(), nullptr);
  CHECK(hex_lower(std::string(reinterpret_cast<char*>(digest), length)) == v3().signature);
  // The 64-byte buffer the document prints, sealed with the key and IV, is V3's encrypt.
  CHECK(v3_buffer().size() == 64);
  CHECK(seal_raw(kBridgeKey, v3_buffer()) == v3().encrypt);
}

TEST_CASE("aes_key decodes leniently: the official keys' spare bits are dropped",
          "[legacy][crypto][base64]") {
  CHECK(hex_lower(base64_decode(std::string("4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij") + "=").value()) ==
        "e20e63eb8aa5ca5df3bdeb6ac73e638a871daf9f3a7e7db3be3a5af3396cde28");
  CHECK(hex_lower(base64_decode(std::string("Yue0EfdN5900c1ce5cf6A152c63DDe1808a60c5ecd7") + "=").value()) ==
        "62e7b411f74de7dd3473571ee5c7fa035e7673adc30ded7cd3c6bad1ce5e71de");
  CHECK(hex_lower(base64_decode(std::string(kBridgeKey) + "=").value()) ==
        "5aade667cbcada94fbad7f720789c2e9d175849e602f4b00d9e47cb58dee23ba");
  // Without the "=" too.
  CHECK(base64_decode(kBridgeKey).value().size() == 32);
}

TEST_CASE("CallbackCrypto refuses an aes_key that is not 32 bytes of Base64", "[legacy][crypto]") {
  auto short_key = CallbackCrypto::create("t", "abcd", "o");
  REQUIRE_FALSE(short_key.is_ok());
  CHECK(short_key.status().message() ==
        "aes_key decodes to 3 bytes, not 32 (it must be 43 characters)");
  auto bad = CallbackCrypto::create("t", "Wq3mZ8vK2pT7rX9yB4nC6dF1hJ5gL0sA2eR8tY3uI7$", "o");
  REQUIRE_FALSE(bad.is_ok());
  CHECK(bad.status().message() == "aes_key is not Base64");
}

TEST_CASE("Base64 round trips and its lenient and strict edges", "[legacy][base64]") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("a") == "YQ==");
  CHECK(base64_encode("ab") == "YWI=");
  CHECK(base64_encode("abc") == "YWJj");
  CHECK(base64_decode("") == std::string());
  CHECK(base64_decode("YQ==") == std::string("a"));
  CHECK(base64_decode("YQ") == std::string("a"));
  CHECK(base64_decode("YR==") == std::string("a"));  // spare bits dropped
  CHECK(base64_decode("YWI=") == std::string("ab"));
  CHECK(base64_decode("YW\nJj\r\n") == std::string("abc"));  // encodebytes-style newlines
  CHECK(base64_decode(" YWJj ") == std::string("abc"));
  CHECK_FALSE(base64_decode("Y").has_value());       // 6 bits make no byte
  CHECK_FALSE(base64_decode("YWJjY").has_value());
  CHECK_FALSE(base64_decode("YQ=a").has_value());    // "=" inside
  CHECK_FALSE(base64_decode("YQ===").has_value());
  CHECK_FALSE(base64_decode("YWJj=").has_value());   // "=" after a full group
  CHECK_FALSE(base64_decode("YQ=").has_value());     // "=" given must complete the group
  CHECK_FALSE(base64_decode("YW-j").has_value());    // URL-safe alphabet is not this one
  CHECK_FALSE(base64_decode("YW_j").has_value());
  CHECK_FALSE(base64_decode("YWJ$").has_value());
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  CHECK(base64_decode(base64_encode(all)) == all);
}

TEST_CASE("decrypt names each way a ciphertext is wrong", "[legacy][crypto]") {
  CallbackCrypto crypto = crypto_for(v3());
  auto reason = [&](std::string_view encrypt) {
    auto result = crypto.decrypt(encrypt);
    REQUIRE_FALSE(result.is_ok());
    return result.status().message();
  };

  SECTION("not Base64") { CHECK(reason("1I3X$fUq") == "encrypt is not valid Base64"); }
  SECTION("empty") {
    CHECK(reason("") == "ciphertext is 0 bytes, not a non-zero multiple of the AES block (16)");
  }
  SECTION("not whole AES blocks") {
    std::string cipher = base64_decode(v3().encrypt).value();
    CHECK(reason(base64_encode(cipher.substr(0, 20))) ==
          "ciphertext is 20 bytes, not a non-zero multiple of the AES block (16)");
  }
  SECTION("truncated to whole blocks: the pad is gone") {
    std::string cipher = base64_decode(v3().encrypt).value();
    // Byte 32 is the owner key's fifth, "b" = 98.
    CHECK(reason(base64_encode(cipher.substr(0, 32))) ==
          "bad padding (last byte 98; wrong aes_key or not DingTalk's scheme)");
  }
  SECTION("pad byte zero") {
    std::string buffer = v3_buffer();
    buffer.back() = '\0';
    CHECK(reason(seal_raw(kBridgeKey, buffer)) ==
          "bad padding (last byte 0; wrong aes_key or not DingTalk's scheme)");
  }
  SECTION("pad value over 32") {
    std::string buffer = v3_buffer();
    buffer.back() = 33;
    CHECK(reason(seal_raw(kBridgeKey, buffer)) ==
          "bad padding (last byte 33; wrong aes_key or not DingTalk's scheme)");
  }
  SECTION("pad bytes that differ") {
    std::string buffer = v3_buffer();
    buffer[50] = 0x10;
    CHECK(reason(seal_raw(kBridgeKey, buffer)) ==
          "bad padding (pad bytes differ; wrong aes_key or corrupted ciphertext)");
  }
  SECTION("length field beyond the plaintext") {
    std::string buffer = v3_buffer();
    buffer[19] = 0x30;  // 48 > 27 bytes after the prefix and length
    CHECK(reason(seal_raw(kBridgeKey, buffer)) ==
          "length field says 48 bytes but only 27 follow");
  }
  SECTION("too short for prefix and length") {
    std::string buffer = std::string(16, 'a') + std::string(16, '\x10');
    CHECK(reason(seal_raw(kBridgeKey, buffer)) ==
          "plaintext is 16 bytes, too short for the random prefix and length field");
  }
  SECTION("wrong owner key") {
    auto other = CallbackCrypto::create(v3().token, kBridgeKey, "dingotherkey");
    auto result = other->decrypt(v3().encrypt);
    REQUIRE_FALSE(result.is_ok());
    CHECK(result.status().message() ==
          "owner key \"dingbridgeappkey0001\" in the ciphertext is not the configured \"dingotherkey\"");
  }
  SECTION("wrong aes_key") {
    auto other = CallbackCrypto::create(v3().token, "1234567890123456789012345678901234567890123",
                                        v3().owner_key);
    auto result = other->decrypt(v3().encrypt);
    REQUIRE_FALSE(result.is_ok());
    CHECK_THAT(result.status().message(), Catch::StartsWith("bad padding"));
  }
}

TEST_CASE("decrypt ignores the newlines Python's encodebytes puts in encrypt", "[legacy][crypto]") {
  const Vector& v1 = kVectors[3];
  std::string wrapped = v1.encrypt;
  for (size_t at = 76; at < wrapped.size(); at += 77) wrapped.insert(at, "\n");
  wrapped += "\n";
  auto message = crypto_for(v1).decrypt(wrapped);
  REQUIRE(message.is_ok());
  CHECK(message.value() == v1.plaintext);
}

TEST_CASE("pads are 1..32 bytes: a full block of 0x20 when already aligned", "[legacy][crypto]") {
  // 16 + 4 + 12 + 0 = 32 bytes: aligned, so 32 bytes of 0x20 follow.
  auto crypto = CallbackCrypto::create("t", kBridgeKey, "").value();
  const std::string encrypt = crypto.encrypt("0123456789abcdef", "twelve bytes");
  CHECK(base64_decode(encrypt)->size() == 64);
  auto opened = crypto.open(encrypt);
  REQUIRE(opened.is_ok());
  CHECK(opened->message == "twelve bytes");
  CHECK(opened->owner_key.empty());
  // Apps that pad to 16-byte blocks (1..16, each byte equal) are read too.
  std::string buffer = std::string("0123456789abcdef") + std::string("\0\0\0\x07", 4) + "success" +
                       "o" + std::string(4, '\x04');
  auto with_o = CallbackCrypto::create("t", kBridgeKey, "o").value();
  auto message = with_o.decrypt(seal_raw(kBridgeKey, buffer));
  REQUIRE(message.is_ok());
  CHECK(message.value() == "success");
}
