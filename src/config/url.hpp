// URLs as the config takes them (webhooks, api_base, proxy) and as logs and `check` show
// them. A URL the loader accepts is one the daemon can use as written: the same rules hold
// for `check`, `run` and a SIGHUP reload, and libcurl's own parser has the last word, so
// no URL passes `check` only to fail every delivery later.
#pragma once

#include <string>
#include <string_view>

#include "common/status.hpp"

namespace dsb::config {

enum class UrlKind {
  webhook,   // http:// or https://, any path and query
  api_base,  // http:// or https://, a path but no query: "/v1.0/..." is appended to it
  proxy,     // http:// only (libwebsockets speaks CONNECT over plain HTTP), no path but "/"
};

// The URL with its scheme lower-cased ("HTTP://h/x" -> "http://h/x"), or the problem,
// phrased to follow "<key>: ". The host is a name, a dotted-quad IPv4 address or a
// bracketed IPv6 address; the port, when given, is 1..65535; no #fragment (it is never
// sent), no spaces or control characters. Messages show the URL through redact_url().
Result<std::string> parse_url(std::string_view url, UrlKind kind);

// `url` fit for logs and output: the userinfo of any scheme ("socks5://u:p@h" ->
// "socks5://***@h"; also a scheme-less "u:p@h:1") and the value of every query parameter
// ("?access_token=abc&x" -> "?access_token=***&***") masked, and a #fragment dropped to
// "#***". Anything that is not a URL comes back with the same rules applied as far as
// they go: it never throws and never reveals more than it was given.
std::string redact_url(std::string_view url);

}  // namespace dsb::config
