#include <catch2/catch.hpp>

#include "common/base64.hpp"
#include "deliver/signature.hpp"

using namespace dsb::deliver;

TEST_CASE("HMAC-SHA256 matches RFC 4231 test case 2", "[signature]") {
  CHECK(hex_lower(hmac_sha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("X-Bridge-Signature is v1= hex HMAC of timestamp.body", "[signature]") {
  // Independently computed: printf '1700000000000.{"a":1}' | openssl dgst -sha256 -hmac s3cret
  CHECK(bridge_signature("s3cret", "1700000000000", R"({"a":1})") ==
        "v1=8a6f992378d0d47b6fcdf1cc8d72e46ba5c789b2c9d3a538be31fe07d598ba6d");
}

TEST_CASE("webhook-signature reproduces the Standard Webhooks specification's example",
          "[signature]") {
  // spec/standard-webhooks.md: secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw (the key is the
  // base64 after "whsec_"), msg_p5jXN8AQM9LWM0D4loKWxJek, 1614265330, {"test": 2432232314}.
  const std::string key = dsb::base64_decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").value();
  CHECK(standard_webhooks_signature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330",
                                    R"({"test": 2432232314})") ==
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}
