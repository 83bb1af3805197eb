// Turning the open call's `endpoint` and `ticket` into what lws_client_connect_via_info()
// needs. Pure. The ticket is a credential: only `display` (no query) may be logged.
#pragma once

#include <string>
#include <string_view>

#include "common/status.hpp"

namespace dsb::stream {

struct WsTarget {
  bool tls = true;      // wss://
  std::string host;     // without IPv6 brackets; also the Host header and the TLS name
  int port = 443;
  std::string path;     // path + query, with ticket=<url-encoded ticket> appended
  std::string display;  // scheme://host:port/path, never the query: safe to log
};

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string url_encode(std::string_view text);

// `endpoint?ticket=<enc>` (or `&ticket=` when the endpoint already has a query).
// Accepts ws:// and wss:// only; the returned endpoint is used verbatim otherwise.
Result<WsTarget> ws_target(std::string_view endpoint, std::string_view ticket);

// The endpoint without its query and fragment, for log lines.
std::string redact_query(std::string_view url);

}  // namespace dsb::stream
