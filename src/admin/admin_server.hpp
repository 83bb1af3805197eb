// The admin endpoint: /healthz, /healthz/store, /readyz and /metrics over HTTP/1.1, on a
// vhost of its own in the daemon's event loop (so it answers from the same thread that
// services the Stream connections: a wedged loop fails /healthz instead of hiding behind a
// separate thread).
//
// Sharing the loop's fd table with the Stream connections, it must never fill it: it holds
// at most kMaxConnections (a new one makes room by closing the oldest idle one, see
// httpd/connection_limit.hpp), the daemon sizes the table with kFdsNeeded to spare, idle and
// slow clients are dropped after kClientTimeoutSeconds, and nothing on this port outlives a
// request: websocket and h2c upgrades and CONNECT are refused (400 / 405), HTTP/2's
// prior-knowledge preface gets lws's 403.
#pragma once

#include <libwebsockets.h>

#include <memory>
#include <string>
#include <vector>

#include "admin/metrics.hpp"
#include "common/status.hpp"
#include "config/config.hpp"
#include "httpd/connection_limit.hpp"
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
  // Same contract. "" while the store is writable; otherwise the reason /readyz gives for
  // the store ("store not writable: ..."), which /healthz/store answers 503 with.
  virtual std::string store_problem() const = 0;
};

// GET (and HEAD) /healthz, /healthz/store, /readyz, /metrics over `registry`. Testable
// without a socket.
// REQUIRES: `readiness` and `registry` outlive the router.
httpd::Router make_router(const Readiness& readiness, const metrics::Registry& registry);

class AdminServer {
 public:
  // Enough for a few scrapers and health checkers at once.
  static constexpr size_t kMaxConnections = 32;
  // Entries of the loop's fd table this server can hold: its listening socket, its
  // connections, and one just accepted before another is closed to make room for it.
  static constexpr unsigned int kFdsNeeded = kMaxConnections + 2;
  // Time for a new connection to send its request head, and for a kept-alive one to send
  // the next.
  static constexpr int kClientTimeoutSeconds = 5;

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
  int port() const { return bound_.port; }
  // "HOST:PORT" as bound, "[::1]:PORT" for IPv6; "" before start().
  std::string address() const;

 private:
  static int lws_callback(lws* wsi, lws_callback_reasons reason, void* user, void* in,
                          size_t len);
  int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len);
  int admit(lws* wsi);

  std::unique_ptr<httpd::Server> server_;
  httpd::ConnectionLimit limit_{kMaxConnections};
  // lws keeps pointers to these (not copies) for the vhost's lifetime.
  lws_protocols protocols_[2];
  // Where the vhost listens (lws keeps a pointer to its host); port 0 until start() succeeded.
  config::ListenAddress bound_{"", 0, false};
  lws_vhost* vhost_ = nullptr;
};

}  // namespace dsb::admin
