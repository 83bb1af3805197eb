#include "openapi/proxy.hpp"

#include <utility>

#include "admin/metrics.hpp"
#include "common/glob.hpp"
#include "common/json.hpp"
#include "common/log.hpp"
#include "openapi/answer.hpp"

namespace dsb::openapi {

// One request on its way to DingTalk.
struct OpenApiProxy::Call {
  httpd::Request request;
  httpd::Respond respond;
  int64_t started_ms = 0;
  bool token_renewed = false;  // the one resend with a fresh token is spent
};

httpd::Response proxy_error(int status, const std::string& code, const std::string& message) {
  return httpd::Response::json(status, "{\"code\":" + json::quote(code) +
                                           ",\"message\":" + json::quote(message) + "}");
}

OpenApiProxy::OpenApiProxy(ProxySettings settings, AccessTokenCache& tokens,
                           bridge::Webhooks& http, bridge::Timers& clock)
    : settings_(std::move(settings)), tokens_(tokens), http_(http), clock_(clock) {}

OpenApiProxy::~OpenApiProxy() { *self_ = nullptr; }

bool OpenApiProxy::allowed(const std::string& path) const {
  if (settings_.allow.empty()) return true;
  for (const std::string& glob : settings_.allow) {
    if (glob_match(glob, path)) return true;
  }
  return false;
}

void OpenApiProxy::handle(httpd::Request request, httpd::Respond respond) {
  auto call = std::make_shared<Call>();
  call->started_ms = clock_.now_ms();
  call->respond = std::move(respond);
  call->request = std::move(request);
  const httpd::Request& r = call->request;
  if (r.body_too_large) {
    finish(*call, proxy_error(413, "PayloadTooLarge", "the request body is larger than openapi.max_body"));
    return;
  }
  if (upstream_of(r.path) == Upstream::none) {
    finish(*call, proxy_error(404, "NotFound", "the bridge forwards /v1.0/... to api_base and "
                                               "/oapi/... to oapi_base, nothing else"));
    return;
  }
  if (!allowed(r.path)) {
    finish(*call, proxy_error(403, "Forbidden", "the path is not in openapi.allow of app " +
                                                    settings_.app));
    return;
  }
  with_token(call);
}

void OpenApiProxy::with_token(const std::shared_ptr<Call>& call) {
  std::weak_ptr<OpenApiProxy*> self = self_;
  tokens_.get([self, call](Result<std::string> token) {
    if (self.expired() || *self.lock() == nullptr) return;
    OpenApiProxy& proxy = **self.lock();
    if (!token) {
      log::warn("openapi", "no access token; request refused",
                {{"app", proxy.settings_.app}, {"path", call->request.path},
                 {"reason", token.status().message()}});
      proxy.finish(*call, proxy_error(502, "TokenUnavailable",
                                      "the bridge has no access token for app " +
                                          proxy.settings_.app + ": " + token.status().message()));
      return;
    }
    proxy.send(call, token.value());
  });
}

void OpenApiProxy::send(const std::shared_ptr<Call>& call, const std::string& token) {
  std::weak_ptr<OpenApiProxy*> self = self_;
  http_.post(rewrite_request(call->request, settings_.target, token),
             [self, call, token](deliver::Response response) {
               if (self.expired() || *self.lock() == nullptr) return;
               OpenApiProxy& proxy = **self.lock();
               if (response.status == 0) {
                 const bool timed_out = response.failure == deliver::Failure::timed_out;
                 log::warn("openapi", "no answer from DingTalk",
                           {{"app", proxy.settings_.app}, {"path", call->request.path},
                            {"reason", describe_failure(response)}});
                 if (timed_out) {
                   proxy.finish(*call, proxy_error(504, "UpstreamTimeout", "DingTalk did not answer in time"));
                 } else if (response.failure == deliver::Failure::too_large) {
                   proxy.finish(*call, proxy_error(502, "UpstreamAnswerTooLarge",
                                                   "DingTalk's answer is larger than the bridge "
                                                   "relays (limits.max_frame)"));
                 } else {
                   proxy.finish(*call, proxy_error(502, "UpstreamUnavailable", "DingTalk could not be reached"));
                 }
                 return;
               }
               if (classify_answer(response).kind == AnswerKind::invalid_token && !call->token_renewed) {
                 call->token_renewed = true;
                 log::info("openapi", "access token refused; fetching a fresh one and sending again",
                           {{"app", proxy.settings_.app}, {"path", call->request.path}});
                 proxy.tokens_.invalidate(token);
                 proxy.with_token(call);
                 return;
               }
               proxy.finish(*call, rewrite_answer(response));
             });
}

void OpenApiProxy::finish(Call& call, httpd::Response response) {
  const std::string status = std::to_string(response.status);
  metrics::global().counter("dsb_openapi_requests_total", {{"app", settings_.app}, {"status", status}}).inc();
  metrics::global()
      .histogram("dsb_openapi_request_seconds", {{"app", settings_.app}})
      .observe(static_cast<double>(clock_.now_ms() - call.started_ms) / 1000.0);
  log::debug("openapi", "request", {{"app", settings_.app}, {"method", call.request.method},
                                    {"path", call.request.path}, {"status", status}});
  if (call.respond) {
    httpd::Respond respond = std::move(call.respond);
    call.respond = nullptr;
    respond(std::move(response));
  }
}

}  // namespace dsb::openapi
