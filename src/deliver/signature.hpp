// HMAC signatures computed with OpenSSL (no hand-written hash).
#pragma once

#include <string>
#include <string_view>

namespace dsb::deliver {

// Raw HMAC-SHA256 digest (32 bytes).
std::string hmac_sha256(std::string_view key, std::string_view message);

std::string hex_lower(std::string_view bytes);

// X-Bridge-Signature for `signing_secret` (product.md section 5):
// "v1=" + hex(HMAC-SHA256(secret, timestamp_ms + "." + body)).
std::string bridge_signature(std::string_view secret, std::string_view timestamp_ms,
                             std::string_view body);

// `webhook-signature` of a Standard Webhooks request (product.md section 11), one v1 entry:
// "v1," + Base64(HMAC-SHA256(key, msg_id + "." + timestamp_s + "." + body)). `key` is the
// decoded whsec_ secret, `timestamp_s` Unix seconds as sent in `webhook-timestamp`.
std::string standard_webhooks_signature(std::string_view key, std::string_view msg_id,
                                        std::string_view timestamp_s, std::string_view body);

// Header `sign` of a legacy-robot push (reference/legacy-http.md 2.1):
// Base64(HMAC-SHA256(key = client_secret, timestamp_ms + "\n" + client_secret)).
std::string robot_signature(std::string_view client_secret, std::string_view timestamp_ms);

// Header `x-ddpaas-signature` of a legacy-card callback (reference/legacy-http.md 3.2):
// Base64(HMAC-SHA256(key = api_secret, timestamp_ms)); no suffix, unlike the robot sign.
std::string card_signature(std::string_view api_secret, std::string_view timestamp_ms);

}  // namespace dsb::deliver
