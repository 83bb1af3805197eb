#include "bridge/openapi_endpoints.hpp"

#include "common/log.hpp"

namespace dsb::bridge {
namespace {

bool same_endpoint(const config::App& a, const config::App& b) {
  return a.openapi.listen == b.openapi.listen && a.openapi.allow == b.openapi.allow &&
         a.openapi.max_body == b.openapi.max_body && a.dingtalk.oapi_base == b.dingtalk.oapi_base;
}

}  // namespace

unsigned int OpenApiEndpoints::fds_needed(const config::Config& config) {
  unsigned int fds = 0;
  for (const config::App& app : config.apps) {
    if (app.openapi.enabled()) fds += openapi::LocalServer::kFdsNeeded;
  }
  return fds;
}

bool OpenApiEndpoints::differ(const config::Config& running, const config::Config& next) {
  for (const config::App& app : next.apps) {
    const config::App* before = running.find_app(app.name);
    if (before == nullptr ? app.openapi.enabled() : !same_endpoint(*before, app)) return true;
  }
  for (const config::App& app : running.apps) {
    if (app.openapi.enabled() && next.find_app(app.name) == nullptr) return true;
  }
  return false;
}

Status OpenApiEndpoints::start(loop::EventLoop& loop, const config::Config& config,
                               const TokensFor& tokens, const TransportFor& transport,
                               Webhooks& http, Timers& timers) {
  for (const config::App& app : config.apps) {
    if (!app.openapi.enabled()) continue;
    openapi::ProxySettings settings;
    settings.app = app.name;
    settings.target.api_base = app.dingtalk.api_base;
    settings.target.oapi_base = app.dingtalk.oapi_base;
    settings.target.transport = transport(app);
    settings.allow = app.openapi.allow;
    Endpoint endpoint;
    endpoint.proxy = std::make_unique<openapi::OpenApiProxy>(std::move(settings), tokens(app), http, timers);
    endpoint.server = std::make_unique<openapi::LocalServer>();
    if (Status status = endpoint.server->start(loop, *app.openapi.listen, app.openapi.max_body,
                                               *endpoint.proxy, app.name);
        !status) {
      return Status::error("app " + app.name + ": " + status.message());
    }
    log::info("openapi", "listening", {{"app", app.name}, {"address", endpoint.server->address()}});
    endpoints_.push_back(std::move(endpoint));
  }
  return Status::ok();
}

}  // namespace dsb::bridge
