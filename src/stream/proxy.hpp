// The HTTP proxy both the open call (curl) and the websocket (lws, HTTP CONNECT) go through:
// `dingtalk.proxy`, else HTTPS_PROXY / https_proxy from the environment. Pure parsing.
//
// Only plain-HTTP proxies are supported (`http://[user:pass@]host[:port]`): lws 4.1 cannot
// speak TLS to a proxy. NO_PROXY is not consulted: the bridge talks to two DingTalk hosts
// (or an emulator); an operator who wants no proxy leaves both settings empty.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.hpp"

namespace dsb::stream {

struct Proxy {
  std::string host;      // without IPv6 brackets
  int port = 80;
  std::string username;  // percent-decoded; secret-ish: never logged
  std::string password;  // percent-decoded; never logged
  std::string source;    // "dingtalk.proxy", "HTTPS_PROXY" or "https_proxy", for logs

  // For CURLOPT_PROXY: "http://host:port" (credentials go through CURLOPT_PROXYUSERNAME/
  // PROXYPASSWORD so they need no re-encoding).
  std::string curl_url() const;
  // For lws_set_proxy() / info.http_proxy_address: "[user:pass@]host:port", credentials raw
  // (lws base64-encodes them as they are into Proxy-Authorization: Basic).
  std::string lws_address() const;
  // "host:port", safe to log.
  std::string display() const;
};

// Parses `http://[user:pass@]host[:port][/]` (scheme optional, port defaults to 80).
Result<Proxy> parse_proxy(std::string_view url);

using Getenv = std::function<const char*(const char*)>;

// The proxy to use: `configured` if non-empty, else HTTPS_PROXY, else https_proxy (empty
// values count as unset). nullopt = connect directly. A value that does not parse is an
// error (the caller logs it and connects directly rather than crash-looping).
Result<std::optional<Proxy>> resolve_proxy(std::string_view configured, const Getenv& getenv_fn);

}  // namespace dsb::stream
