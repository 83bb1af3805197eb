// The admin endpoint: /healthz, /readyz and /metrics over HTTP/1.1, on a vhost of its own in
// the daemon's event loop (so it answers from the same thread that services the Stream
// connections: a wedged loop fails /healthz instead of hiding behind a separate thread).
#pragma once

#include <libwebsockets.h>

#include <memory>
#include <string>
#include <vector>

#include "admin/metrics.hpp"
#include "common/status.hpp"
#include "config/config.hpp"
#include "httpd/router.hpp"

namespace dsb::loop {
class EventLoop;
}
namespace dsb::httpd {
class Server;
}

namespace dsb::admin {

// What /readyz asks. Implemented by the daemon.
class Readiness {
 public:
  virtual ~Readiness() = default;
  // Called on the loop thread for every /readyz request: must be cheap, must not block and
  // must not throw. Empty when ready; otherwise one short reason per unmet condition
  // ("no Stream connection registered", "store not writable").
  virtual std::vector<std::string> not_ready_reasons() const = 0;
};

// GET (and HEAD) /healthz, /readyz, /metrics over `registry`. Testable without a socket.
// REQUIRES: `readiness` and `registry` outlive the router.
httpd::Router make_router(const Readiness& readiness, const metrics::Registry& registry);

class AdminServer {
 public:
  AdminServer();
  // Does not touch lws: see start().
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Adds a listening vhost to `loop`. Call on the loop thread (before loop.run(), or from a
  // posted task), at most once.
  // REQUIRES: loop.create() succeeded. This AdminServer, `readiness` and `registry` outlive
  // the loop's context (loop.destroy()): lws calls into the server while it tears down
  // the connections.
  // `listen` was parsed and checked by the config loader (config::parse_listen).
  // Errors: "cannot listen on HOST:PORT: ..." when the socket cannot be bound (address in
  // use, not an address of this host, permission).
  Status start(loop::EventLoop& loop, const config::ListenAddress& listen, const Readiness& readiness,
               const metrics::Registry& registry = metrics::global());

  // The bound port (the real one when the config said 0); 0 before a successful start().
  int port() const { return port_; }
  // "HOST:PORT" as bound, "[::1]:PORT" for IPv6; "" before start().
  std::string address() const;

 private:
  std::unique_ptr<httpd::Server> server_;
  // lws keeps pointers to these (not copies) for the vhost's lifetime.
  lws_protocols protocols_[2];
  std::string host_;
  bool ipv6_ = false;
  lws_vhost* vhost_ = nullptr;
  int port_ = 0;
};

}  // namespace dsb::admin
