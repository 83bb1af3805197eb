#include "admin/admin_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "admin/prometheus.hpp"
#include "common/log.hpp"
#include "httpd/server.hpp"
#include "loop/event_loop.hpp"

namespace dsb::admin {

namespace {

std::string join_host_port(const std::string& host, bool ipv6, int port) {
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// lws_create_vhost() only says "no": bind a throwaway socket the way lws will (SO_REUSEADDR)
// to learn why, so the operator reads "address in use" rather than a bare failure.
std::string bind_problem(const config::ListenAddress& a) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (a.ipv6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(a.port));
    inet_pton(AF_INET6, a.host.c_str(), &sin6->sin6_addr);
    length = sizeof *sin6;
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(a.port));
    inet_pton(AF_INET, a.host.c_str(), &sin->sin_addr);
    length = sizeof *sin;
  }
  int fd = socket(a.ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("cannot create a socket: ") + std::strerror(errno);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  std::string problem;
  if (bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    switch (errno) {
      case EADDRINUSE: problem = "address in use"; break;
      case EADDRNOTAVAIL: problem = "not an address of this host"; break;
      case EACCES: problem = "permission denied (a port below 1024 needs privileges)"; break;
      default: problem = std::strerror(errno);
    }
  }
  close(fd);
  return problem;
}

}  // namespace

httpd::Router make_router(const Readiness& readiness, const metrics::Registry& registry) {
  httpd::Router router;
  router.add("GET", "/healthz", [](const httpd::Request&) {
    return httpd::Response::text(200, "ok\n");
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
  return vhost_ ? join_host_port(host_, ipv6_, port_) : std::string();
}

Status AdminServer::start(loop::EventLoop& loop, const config::ListenAddress& a,
                          const Readiness& readiness, const metrics::Registry& registry) {
  if (vhost_ != nullptr) return Status::error("admin server already started");
  if (loop.context() == nullptr) return Status::error("admin server: the event loop has no context");
  const std::string where = a.to_string();

  if (std::string problem = bind_problem(a); !problem.empty()) {
    return Status::error("cannot listen on " + where + ": " + problem);
  }

  server_ = std::make_unique<httpd::Server>(make_router(readiness, registry),
                                            httpd::Server::Options{64 * 1024});
  protocols_[0] = server_->protocol("dsb-admin-http");
  std::memset(&protocols_[1], 0, sizeof protocols_[1]);
  host_ = a.host;
  ipv6_ = a.ipv6;

  lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  info.vhost_name = "dsb-admin";
  info.port = a.port;
  info.iface = host_.c_str();
  info.protocols = protocols_;
  // An IPv4 address on an IPv6 socket would also accept v4-mapped peers on other
  // addresses' families; bind exactly the family the config names.
  if (!a.ipv6) info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  // keepalive_timeout stays lws's default (5 s): an idle scraper connection does not linger.
  vhost_ = lws_create_vhost(loop.context(), &info);
  if (vhost_ == nullptr) {
    server_.reset();
    return Status::error("cannot listen on " + where + " (see the lws error above)");
  }
  port_ = lws_get_vhost_listen_port(vhost_);
  log::info("admin", "listening", {{"address", address()}});
  return Status::ok();
}

}  // namespace dsb::admin
