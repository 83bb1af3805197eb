// Value checks that need no YAML: each returns the problem, phrased to follow
// "<key>: ", or nothing when the value is fine.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.hpp"
#include "config/config.hpp"
#include "config/url.hpp"  // parse_url, redact_url

namespace dsb::config {

using Problem = std::optional<std::string>;

// `text` in double quotes, as messages show a value: got "abc".
std::string quoted(std::string_view text);

// admin.listen: HOST:PORT with HOST a dotted-quad IPv4 address, "[IPv6]" or "localhost"
// (read as 127.0.0.1), PORT 0..65535 (0: any free port, for tests). Host names are
// refused: the admin endpoint binds exactly where the config says, with no DNS lookup.
// REQUIRES: `listen` is not "" (the caller reads "" as "disabled").
Result<ListenAddress> parse_listen(std::string_view listen);

// Identifiers sent to DingTalk or matched against frames (client_id, topic, event,
// owner_key): valid UTF-8 with no control characters (a NUL would cut the value short in
// C APIs; invalid UTF-8 cannot be put into the JSON of the open call).
Problem check_identifier(std::string_view text);

// dingtalk.ca_file's content: at least one PEM certificate and nothing OpenSSL cannot read,
// as libwebsockets and libcurl will load it at every connection.
Problem check_ca_bundle(std::string_view pem);

// Route names end up in metric labels, log fields and the spool CLI (--route NAME).
Problem check_route_name(std::string_view name);

// DingTalk's EncodingAESKey: 43 base64 characters (32 bytes once "=" is appended).
// The message gives the length only, never the key.
Problem check_aes_key(std::string_view key);

// RFC 9110 token characters; values may not contain CR, LF or NUL (header injection).
Problem check_header_name(std::string_view name);
Problem check_header_value(std::string_view value);

}  // namespace dsb::config
