#include "admin/admin_server.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "admin/prometheus.hpp"
#include "common/log.hpp"
#include "httpd/bind_check.hpp"
#include "httpd/server.hpp"
#include "loop/event_loop.hpp"

namespace dsb::admin {

namespace {

httpd::ConnectionLimit::Id id_of(lws* wsi) { return reinterpret_cast<httpd::ConnectionLimit::Id>(wsi); }

// lws turns a CONNECT request into a raw socket before any HTTP callback: answer it by hand.
void refuse_connect(lws* wsi) {
  const std::string body = "the admin endpoint is not a proxy: CONNECT refused\n";
  const std::string refusal = "HTTP/1.1 405 Method Not Allowed\r\n"
                              "content-type: text/plain; charset=utf-8\r\n"
                              "content-length: " + std::to_string(body.size()) + "\r\n"
                              "connection: close\r\n\r\n" + body;
  // Best effort on a fresh socket: the kernel takes these few bytes at once, or the client
  // is gone already.
  [[maybe_unused]] const ssize_t sent =
      send(lws_get_socket_fd(wsi), refusal.data(), refusal.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

}  // namespace

httpd::Router make_router(const Readiness& readiness, const metrics::Registry& registry) {
  httpd::Router router;
  router.add("GET", "/healthz", [](const httpd::Request&) {
    return httpd::Response::text(200, "ok\n");
  });
  router.add("GET", "/healthz/store", [&readiness](const httpd::Request&) {
    const std::string problem = readiness.store_problem();
    return problem.empty() ? httpd::Response::text(200, "ok\n")
                           : httpd::Response::text(503, problem + "\n");
  });
  router.add("GET", "/readyz", [&readiness](const httpd::Request&) {
    std::vector<std::string> reasons = readiness.not_ready_reasons();
    if (reasons.empty()) return httpd::Response::text(200, "ready\n");
    std::string body;
    for (const auto& r : reasons) body += r + "\n";
    return httpd::Response::text(503, std::move(body));
  });
  router.add("GET", "/metrics", [&registry](const httpd::Request&) {
    httpd::Response r = httpd::Response::text(200, metrics::render_prometheus(registry));
    r.content_type = metrics::kPrometheusContentType;
    return r;
  });
  return router;
}

AdminServer::AdminServer() { std::memset(protocols_, 0, sizeof protocols_); }

AdminServer::~AdminServer() = default;

std::string AdminServer::address() const {
  return vhost_ ? bound_.to_string() : std::string();
}

int AdminServer::lws_callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                              size_t len) {
  const lws_protocols* protocol = lws_get_protocol(wsi);
  auto* self = protocol ? static_cast<AdminServer*>(protocol->user) : nullptr;
  if (self == nullptr) return lws_callback_http_dummy(wsi, reason, user, in, len);
  return self->callback(wsi, reason, user, in, len);
}

int AdminServer::callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len) {
  switch (reason) {
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
      return admit(wsi);
    case LWS_CALLBACK_WSI_DESTROY:
      limit_.closed(id_of(wsi));
      return 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: {
      // Accepted, an upgraded connection would sit here with no timeout for good.
      const std::string upgrade = in ? static_cast<const char*>(in) : "";
      log::debug("admin", "upgrade refused", {{"upgrade", upgrade}});
      httpd::Response refusal = httpd::Response::text(
          400, "the admin endpoint speaks plain HTTP/1.1: upgrade to " + upgrade + " refused\n");
      return httpd::write_short_response(wsi, refusal) ? 1 : -1;  // 1: answered, keep-alive
    }
    case LWS_CALLBACK_RAW_ADOPT:
      log::debug("admin", "CONNECT refused");
      refuse_connect(wsi);
      return -1;
    default:
      break;
  }
  if (user == nullptr || !httpd::Server::handles(reason)) {
    return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
  return server_->callback(wsi, reason, static_cast<httpd::SessionSlot*>(user), in, len);
}

int AdminServer::admit(lws* wsi) {
  const std::optional<httpd::ConnectionLimit::Id> close = limit_.admit(id_of(wsi));
  if (!close) return 0;
  if (*close == id_of(wsi)) {
    log::debug("admin", "connection refused: every connection is being answered",
               {{"max", std::to_string(limit_.max())}});
    return -1;  // lws closes the newcomer
  }
  log::debug("admin", "oldest idle connection closed to make room",
             {{"max", std::to_string(limit_.max())}});
  // Synchronously, so the fd table never holds more than kFdsNeeded of ours. Safe here:
  // we are inside another connection's adoption, not one of this connection's callbacks.
  lws_set_timeout(reinterpret_cast<lws*>(*close), PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
  return 0;
}

Status AdminServer::start(loop::EventLoop& loop, const config::ListenAddress& a,
                          const Readiness& readiness, const metrics::Registry& registry) {
  if (vhost_ != nullptr) return Status::error("admin server already started");
  if (loop.context() == nullptr) return Status::error("admin server: the event loop has no context");
  const std::string where = a.to_string();

  if (std::string problem = httpd::bind_problem(a.host, a.port, a.ipv6); !problem.empty()) {
    return Status::error("cannot listen on " + where + ": " + problem);
  }

  httpd::Server::Options options;
  options.max_body = 64 * 1024;
  options.on_answering = [this](lws* wsi, bool answering) { limit_.answering(id_of(wsi), answering); };
  server_ = std::make_unique<httpd::Server>(make_router(readiness, registry), std::move(options));
  protocols_[0] = server_->protocol("dsb-admin-http");
  protocols_[0].callback = &AdminServer::lws_callback;
  protocols_[0].user = this;
  std::memset(&protocols_[1], 0, sizeof protocols_[1]);
  bound_.host = a.host;
  bound_.ipv6 = a.ipv6;

  lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  info.vhost_name = "dsb-admin";
  info.port = a.port;
  info.iface = bound_.host.c_str();
  info.protocols = protocols_;
  // An IPv4 address on an IPv6 socket would also accept v4-mapped peers on other
  // addresses' families; bind exactly the family the config names.
  if (!a.ipv6) info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  // lws drops a connection that holds a header table this long (from accept, and again
  // after each answered request) without a complete request head: idle and slow clients.
  info.timeout_secs_ah_idle = kClientTimeoutSeconds;
  info.keepalive_timeout = kClientTimeoutSeconds;
  vhost_ = lws_create_vhost(loop.context(), &info);
  if (vhost_ == nullptr) {
    server_.reset();
    return Status::error("cannot listen on " + where + " (see the lws error above)");
  }
  bound_.port = lws_get_vhost_listen_port(vhost_);
  log::info("admin", "listening", {{"address", address()}});
  return Status::ok();
}

}  // namespace dsb::admin
