// The listening side of one app's OpenAPI endpoint (openapi/proxy.hpp does the work): a
// vhost of its own on the daemon's event loop, built like the admin endpoint's
// (admin/admin_server.hpp): at most kMaxConnections held (the oldest idle one makes room),
// idle and slow clients dropped, websocket and h2c upgrades refused. A request waits on
// the proxy (the token, DingTalk's answer, on the HTTP thread) without holding the loop.
#pragma once

#include <libwebsockets.h>

#include <memory>
#include <string>

#include "common/status.hpp"
#include "config/config.hpp"
#include "httpd/connection_limit.hpp"
#include "openapi/proxy.hpp"

namespace dsb::loop {
class EventLoop;
}
namespace dsb::httpd {
class Server;
}

namespace dsb::openapi {

class LocalServer {
 public:
  // Enough for a burst of an app's workers calling at once (the tests send 100).
  static constexpr size_t kMaxConnections = 256;
  static constexpr unsigned int kFdsNeeded = kMaxConnections + 2;
  // Time to send a request head; also how long a request may wait on DingTalk plus the
  // token (ProxyTarget::timeout, AccessTokenCache::kFetchTimeout) before lws drops it.
  static constexpr int kClientTimeoutSeconds = 75;

  LocalServer();
  ~LocalServer();
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;

  // Adds the listening vhost to `loop`, serving through `proxy` with bodies up to
  // `max_body`. Loop thread, at most once.
  // REQUIRES: loop.create() succeeded; this and `proxy` outlive the loop's context.
  // Errors: "cannot listen on HOST:PORT: ...".
  Status start(loop::EventLoop& loop, const config::ListenAddress& listen, size_t max_body,
               OpenApiProxy& proxy, const std::string& name);

  int port() const { return bound_.port; }
  std::string address() const { return vhost_ ? bound_.to_string() : std::string(); }

 private:
  static int lws_callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len);
  int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len);
  int admit(lws* wsi);

  std::unique_ptr<httpd::Server> server_;
  httpd::ConnectionLimit limit_{kMaxConnections};
  lws_protocols protocols_[2]{};
  std::string vhost_name_;
  config::ListenAddress bound_{"", 0, false};
  lws_vhost* vhost_ = nullptr;
};

}  // namespace dsb::openapi
