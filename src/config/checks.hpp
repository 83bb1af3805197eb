// Value checks that need no YAML: each returns the problem, phrased to follow
// "<key>: ", or nothing when the value is fine.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dsb::config {

using Problem = std::optional<std::string>;

// http:// or https:// followed by a host. `allow_https` false: proxies are http only
// (libwebsockets speaks CONNECT over plain HTTP to the proxy).
Problem check_url(std::string_view url, bool allow_https = true);

// "" (disabled), HOST:PORT or [IPv6]:PORT with PORT 0..65535 (0: any free port, for tests).
Problem check_listen(std::string_view listen);

// Route names end up in metric labels, log fields and the spool CLI (--route NAME).
Problem check_route_name(std::string_view name);

// DingTalk's EncodingAESKey: 43 base64 characters (32 bytes once "=" is appended).
// The message gives the length only, never the key.
Problem check_aes_key(std::string_view key);

// RFC 9110 token characters; values may not contain CR, LF or NUL (header injection).
Problem check_header_name(std::string_view name);
Problem check_header_value(std::string_view value);

// `url` with any user:password@ replaced by "***@", for `check` output and logs.
std::string redact_url(std::string_view url);

}  // namespace dsb::config
