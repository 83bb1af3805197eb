// Every app's local OpenAPI endpoint (product.md section 13; openapi/proxy.hpp): one
// listening vhost and one proxy per app whose `openapi.listen` is set, each with that
// app's token cache (shared with its robot replies) and its proxy and CA. Built at start;
// a reload keeps them as they are (a changed openapi section takes effect on restart).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bridge/ports.hpp"
#include "common/status.hpp"
#include "config/config.hpp"
#include "openapi/local_server.hpp"
#include "openapi/proxy.hpp"

namespace dsb::loop {
class EventLoop;
}

namespace dsb::bridge {

class OpenApiEndpoints {
 public:
  using TokensFor = std::function<openapi::AccessTokenCache&(const config::App&)>;
  using TransportFor = std::function<deliver::Transport(const config::App&)>;

  // Entries of the loop's fd table the endpoints of `config` can hold.
  static unsigned int fds_needed(const config::Config& config);

  // Starts the endpoint of every app that has one. Loop thread, once.
  // REQUIRES: everything passed in outlives the loop's context.
  Status start(loop::EventLoop& loop, const config::Config& config, const TokensFor& tokens,
               const TransportFor& transport, Webhooks& http, Timers& timers);

  // Whether `next` would change an endpoint (so a reload says it waits for a restart).
  static bool differ(const config::Config& running, const config::Config& next);

 private:
  struct Endpoint {
    std::unique_ptr<openapi::OpenApiProxy> proxy;
    std::unique_ptr<openapi::LocalServer> server;
  };
  std::vector<Endpoint> endpoints_;
};

}  // namespace dsb::bridge
