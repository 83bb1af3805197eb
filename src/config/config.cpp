#include "config/config.hpp"

#include <algorithm>

namespace dsb::config {

std::vector<Subscription> Config::subscriptions() const {
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
