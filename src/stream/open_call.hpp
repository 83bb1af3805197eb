// Step one of every connect (stream-protocol.md section 1.1-1.3): POST
// {api_base}/v1.0/gateway/connections/open and get {endpoint, ticket}. The request body and
// the response interpretation are pure; OpenCallWorker (open_worker.hpp) does the HTTP.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace dsb::stream {

struct OpenRequest {
  std::string client_id;
  std::string client_secret;  // secret: the body is never logged
  std::vector<config::Subscription> subscriptions;
  std::string ua;        // "dingtalk-stream-bridge/<version>"
  std::string local_ip;  // comma-separated IPv4s; omitted from the body when empty
};

// The user agent sent in the open call's `ua` field.
std::string user_agent();

// {api_base without trailing slashes}/v1.0/gateway/connections/open
std::string open_url(std::string_view api_base);

// {"clientId","clientSecret","subscriptions":[{"type","topic"}..],"ua","localIp"}
std::string open_request_body(const OpenRequest& request);

enum class OpenOutcome {
  ok,        // endpoint and ticket are set
  rejected,  // HTTP 401/403: the credentials are wrong; retry only at the backoff cap
  failed,    // anything else: transport error, non-200, bad body
};

struct OpenResponse {
  OpenOutcome outcome = OpenOutcome::failed;
  long http_status = 0;  // 0 when no HTTP response arrived
  std::string endpoint;
  std::string ticket;  // secret: never logged
  // The endpoint host resolved to a numeric address by the worker (lws 4.1 as packaged has
  // no async DNS, so it would resolve on the loop thread and stall every connection while
  // it does). Empty: let lws resolve (through a proxy, the proxy resolves).
  std::string resolved_address;
  // Loggable reason on failure: the status and the body's `message` (or a short excerpt).
  std::string error;
};

// Interprets one HTTP answer. REQUIRES: http_status > 0 (transport failures never get here).
OpenResponse parse_open_response(long http_status, std::string_view body);

}  // namespace dsb::stream
