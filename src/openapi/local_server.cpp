#include "openapi/local_server.hpp"

#include <cstring>

#include "common/log.hpp"
#include "httpd/bind_check.hpp"
#include "httpd/server.hpp"
#include "loop/event_loop.hpp"

namespace dsb::openapi {
namespace {

httpd::ConnectionLimit::Id id_of(lws* wsi) { return reinterpret_cast<httpd::ConnectionLimit::Id>(wsi); }

}  // namespace

LocalServer::LocalServer() = default;
LocalServer::~LocalServer() = default;

int LocalServer::lws_callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
  const lws_protocols* protocol = lws_get_protocol(wsi);
  auto* self = protocol ? static_cast<LocalServer*>(protocol->user) : nullptr;
  if (self == nullptr) return lws_callback_http_dummy(wsi, reason, user, in, len);
  return self->callback(wsi, reason, user, in, len);
}

int LocalServer::callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
  switch (reason) {
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
      return admit(wsi);
    case LWS_CALLBACK_WSI_DESTROY:
      limit_.closed(id_of(wsi));
      return 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: {
      httpd::Response refusal = httpd::Response::text(
          400, "the OpenAPI endpoint speaks plain HTTP/1.1: upgrade refused\n");
      return httpd::write_short_response(wsi, refusal) ? 1 : -1;
    }
    case LWS_CALLBACK_RAW_ADOPT:
      return -1;  // CONNECT: this is not a forward proxy
    default:
      break;
  }
  if (user == nullptr || !httpd::Server::handles(reason)) {
    return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
  return server_->callback(wsi, reason, static_cast<httpd::SessionSlot*>(user), in, len);
}

int LocalServer::admit(lws* wsi) {
  const std::optional<httpd::ConnectionLimit::Id> close = limit_.admit(id_of(wsi));
  if (!close) return 0;
  if (*close == id_of(wsi)) {
    log::warn("openapi", "connection refused: every connection is being answered",
              {{"max", std::to_string(limit_.max())}});
    return -1;
  }
  lws_set_timeout(reinterpret_cast<lws*>(*close), PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
  return 0;
}

Status LocalServer::start(loop::EventLoop& loop, const config::ListenAddress& a, size_t max_body,
                          OpenApiProxy& proxy, const std::string& name) {
  if (vhost_ != nullptr) return Status::error("openapi endpoint already started");
  if (loop.context() == nullptr) return Status::error("openapi endpoint: the event loop has no context");
  const std::string where = a.to_string();
  if (std::string problem = httpd::bind_problem(a.host, a.port, a.ipv6); !problem.empty()) {
    return Status::error("cannot listen on " + where + ": " + problem);
  }

  httpd::Server::Options options;
  options.max_body = max_body;
  options.on_answering = [this](lws* wsi, bool answering) { limit_.answering(id_of(wsi), answering); };
  options.deferred = [&proxy](httpd::Request request, httpd::Respond respond) {
    proxy.handle(std::move(request), std::move(respond));
  };
  server_ = std::make_unique<httpd::Server>(httpd::Router{}, std::move(options));
  protocols_[0] = server_->protocol("dsb-openapi-http");
  protocols_[0].callback = &LocalServer::lws_callback;
  protocols_[0].user = this;
  std::memset(&protocols_[1], 0, sizeof protocols_[1]);
  bound_.host = a.host;
  bound_.ipv6 = a.ipv6;
  vhost_name_ = "dsb-openapi-" + name;

  lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  info.vhost_name = vhost_name_.c_str();
  info.port = a.port;
  info.iface = bound_.host.c_str();
  info.protocols = protocols_;
  if (!a.ipv6) info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  info.timeout_secs_ah_idle = kClientTimeoutSeconds;
  info.keepalive_timeout = kClientTimeoutSeconds;
  vhost_ = lws_create_vhost(loop.context(), &info);
  if (vhost_ == nullptr) {
    server_.reset();
    return Status::error("cannot listen on " + where + " (see the lws error above)");
  }
  bound_.port = lws_get_vhost_listen_port(vhost_);
  return Status::ok();
}

}  // namespace dsb::openapi
