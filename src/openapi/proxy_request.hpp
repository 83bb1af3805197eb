// What the local OpenAPI endpoint (product.md section 13) sends to DingTalk for a request
// of an app, and what it hands back. Pure: no socket, no token cache, no clock.
//
//   /v1.0/...  -> {api_base}/v1.0/...?{query}    header x-acs-dingtalk-access-token: TOKEN
//   /oapi/...  -> {oapi_base}/...?{query}&access_token=TOKEN
//
// Passed through: the method, the query (as sent, but without any access_token parameter),
// the body and the headers, less the hop-by-hop ones (RFC 9110 7.6.1: connection,
// keep-alive, proxy-*, te, trailer, transfer-encoding, upgrade, and any the Connection
// header names), Host and Content-Length (the HTTP client sets both for the new URL and
// body), Expect, and any x-acs-dingtalk-access-token: a token the caller sent is never forwarded,
// the app's replaces it. The answer goes back with its status, body and headers, less the
// hop-by-hop ones and Content-Length (the local server frames the body itself).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "deliver/http_client.hpp"
#include "deliver/request.hpp"
#include "httpd/request.hpp"

namespace dsb::openapi {

// Which DingTalk API a local path belongs to.
enum class Upstream {
  none,  // neither prefix: 404
  v1,    // /v1.0/...  (api.dingtalk.com)
  oapi,  // /oapi/...  (oapi.dingtalk.com, the legacy API)
};

Upstream upstream_of(std::string_view path);

struct ProxyTarget {
  std::string api_base;   // no trailing slash
  std::string oapi_base;  // no trailing slash
  deliver::Transport transport;  // the app's proxy and CA
  std::chrono::milliseconds timeout{60'000};
};

inline constexpr std::string_view kTokenHeader = "x-acs-dingtalk-access-token";
inline constexpr std::string_view kTokenParameter = "access_token";

// The request to DingTalk for `in` with `token`.
// REQUIRES: upstream_of(in.path) != Upstream::none.
deliver::Request rewrite_request(const httpd::Request& in, const ProxyTarget& target,
                                 const std::string& token);

// `query` less every `name=...` (or bare `name`) parameter, order kept.
std::string drop_query_parameter(std::string_view query, std::string_view name);

// The local answer for DingTalk's `answer` (an HTTP one: status != 0).
httpd::Response rewrite_answer(const deliver::Response& answer);

// Whether `name` (any case) is a hop-by-hop header (not the ones a Connection header names).
bool is_hop_by_hop(std::string_view name);

}  // namespace dsb::openapi
