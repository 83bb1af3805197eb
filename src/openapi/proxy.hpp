// One app's local OpenAPI endpoint, socket-free (product.md section 13): takes a request
// the local server read, answers it through `respond`. One request's way:
//
//   body over max_body                     413 {"code":"PayloadTooLarge"}
//   neither /v1.0/ nor /oapi/              404 {"code":"NotFound"}
//   path outside `allow`                   403 {"code":"Forbidden"}
//   no token (token API down, refused)     502 {"code":"TokenUnavailable"}
//   token -> DingTalk -> invalid token     the token is dropped, a fresh one fetched (once
//                                          for all who saw it), the request sent once more
//                     -> any other answer  passed back unchanged (proxy_request.hpp)
//   no answer from DingTalk                504 {"code":"UpstreamTimeout"} after the timeout,
//                                          502 {"code":"UpstreamAnswerTooLarge"} for an
//                                          answer over the HTTP client's cap (limits.max_frame),
//                                          else 502 {"code":"UpstreamUnavailable"}
//
// The token is the app's AccessTokenCache, shared with the robot replies' fallback: one
// fetch for all concurrent callers. Neither the token nor the secret is ever logged; the
// log names the method, the path and the status.
//
// Metrics: dsb_openapi_requests_total{app,status}, dsb_openapi_request_seconds{app}
// (from the request read to the answer handed to the server).
//
// Loop thread only; HTTP through bridge::Webhooks, so unit tests use fakes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bridge/ports.hpp"
#include "httpd/request.hpp"
#include "openapi/access_token_cache.hpp"
#include "openapi/proxy_request.hpp"

namespace dsb::openapi {

struct ProxySettings {
  std::string app;              // the metric label
  ProxyTarget target;
  std::vector<std::string> allow;  // path globs; empty = all
};

class OpenApiProxy {
 public:
  // REQUIRES: `tokens` (set_app done by its owner), `http` and `clock` outlive this object.
  OpenApiProxy(ProxySettings settings, AccessTokenCache& tokens, bridge::Webhooks& http,
               bridge::Timers& clock);
  ~OpenApiProxy();
  OpenApiProxy(const OpenApiProxy&) = delete;
  OpenApiProxy& operator=(const OpenApiProxy&) = delete;

  void handle(httpd::Request request, httpd::Respond respond);

  // Whether `path` may be called (allow globs; all when none).
  bool allowed(const std::string& path) const;

 private:
  struct Call;
  // Gets the app's token for `call` and sends it, or answers 502 without one.
  void with_token(const std::shared_ptr<Call>& call);
  void send(const std::shared_ptr<Call>& call, const std::string& token);
  void finish(Call& call, httpd::Response response);

  ProxySettings settings_;
  AccessTokenCache& tokens_;
  bridge::Webhooks& http_;
  bridge::Timers& clock_;
  std::shared_ptr<OpenApiProxy*> self_ = std::make_shared<OpenApiProxy*>(this);
};

// {"code": code, "message": message} with `status`.
httpd::Response proxy_error(int status, const std::string& code, const std::string& message);

}  // namespace dsb::openapi
