#include "config/config.hpp"

#include <algorithm>

namespace dsb::config {

std::vector<Subscription> App::subscriptions() const {
  std::vector<Subscription> out;
  bool any_event = false;
  for (const Route& route : routes) {
    if (!route.is_callback()) {
      any_event = true;
      continue;
    }
    Subscription sub{"CALLBACK", route.topic};
    if (std::find(out.begin(), out.end(), sub) == out.end()) out.push_back(std::move(sub));
  }
  if (any_event) out.push_back({"EVENT", "*"});
  return out;
}

const App* Config::find_app(std::string_view name) const {
  for (const App& app : apps) {
    if (app.name == name) return &app;
  }
  return nullptr;
}

std::string qualified_route_name(const App& app, const Route& route) {
  return app.is_default() ? route.name : app.name + "/" + route.name;
}

AppRoute Config::find_route(std::string_view qualified) const {
  const std::size_t slash = qualified.find('/');
  const std::string_view app_name =
      slash == std::string_view::npos ? App::kDefaultAppName : qualified.substr(0, slash);
  const std::string_view route_name =
      slash == std::string_view::npos ? qualified : qualified.substr(slash + 1);
  const App* app = find_app(app_name);
  if (app == nullptr) return {};
  for (const Route& route : app->routes) {
    if (route.name == route_name) return {app, &route};
  }
  return {};
}

Config Config::narrowed_to(std::string_view name) const {
  Config out = *this;
  out.apps.clear();
  if (const App* app = find_app(name)) out.apps.push_back(*app);
  return out;
}

std::string ListenAddress::to_string() const {
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string_view format_name(Format format) {
  switch (format) {
    case Format::raw: return "raw";
    case Format::legacy_robot: return "legacy-robot";
    case Format::legacy_event: return "legacy-event";
    case Format::legacy_card: return "legacy-card";
    case Format::graph: return "graph";
  }
  return "raw";
}

std::string_view delivery_name(Delivery delivery) {
  return delivery == Delivery::spool ? "spool" : "direct";
}

std::string_view signing_name(Signing signing) {
  return signing == Signing::standard_webhooks ? "standard-webhooks" : "bridge-v1";
}

std::string_view store_backend_name(StoreBackend backend) {
  return backend == StoreBackend::redis ? "redis" : "sqlite";
}

}  // namespace dsb::config
