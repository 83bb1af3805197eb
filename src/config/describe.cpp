// `check` output. It goes to terminals and CI logs, so it shows what each route does but
// no secret: no client_secret, signing or legacy secrets, no header values (they often
// carry tokens), URLs through redact_url (user:password@ and query values masked), and the
// Redis URL through redact_redis_url.
#include <sstream>

#include "config/checks.hpp"
#include "config/loader.hpp"
#include "config/store_settings.hpp"
#include "config/store_settings.hpp"
#include "config/units.hpp"

namespace dsb::config {

namespace {

// One app's subscriptions and routes, each line after `indent`.
void describe_app(const App& app, const std::string& indent, std::ostringstream& out) {
  out << indent << "subscriptions:\n";
  for (const Subscription& sub : app.subscriptions()) {
    out << indent << "  " << sub.type << ' ' << sub.topic << '\n';
  }
  out << indent << "routes (first match wins):\n";
  for (const Route& route : app.routes) {
    out << indent << "  " << route.name << ": "
        << (route.is_callback() ? "topic " + route.topic : "event " + route.event);
    for (std::size_t i = 0; i < route.match.size(); ++i) {
      out << (i ? ", " : " match ") << route.match[i].field.text << '=' << route.match[i].glob;
    }
    out << " -> ";
    for (std::size_t i = 0; i < route.urls.size(); ++i) {
      out << (i ? ", " : "") << redact_url(route.urls[i]);
    }
    out << '\n' << indent << "    format " << format_name(route.format) << ", delivery "
        << delivery_name(route.delivery) << ", timeout " << format_duration(route.timeout)
        << ", max_in_flight " << route.max_in_flight;
    if (route.delivery == Delivery::spool) {
      out << ", retry " << route.retry.max_attempts << " attempts within "
          << format_duration(route.retry.max_age) << " (backoff "
          << format_duration(route.retry.backoff.initial) << " to "
          << format_duration(route.retry.backoff.max) << ")";
      if (route.retry.retry_4xx) out << ", 4xx retried";
    }
    if (route.rate.limited()) {
      out << ", rate " << route.rate.count << (route.rate.per.count() == 1'000 ? "/s" : "/m");
    }
    if (route.order_by) out << ", ordered by " << route.order_by->text;
    if (!route.signing_secret.empty()) out << ", signed " << signing_name(route.signing);
    if (!route.headers.empty()) {
      out << ", headers";
      for (const auto& [name, value] : route.headers) out << ' ' << name;
    }
    out << '\n';
  }
  if (app.openapi.enabled()) {
    const OpenApi& o = app.openapi;
    out << indent << "openapi: " << o.listen->to_string() << " -> " << redact_url(app.dingtalk.api_base)
        << " (/v1.0/...), " << redact_url(app.dingtalk.oapi_base) << " (/oapi/...)\n"
        << indent << "  allow ";
    if (o.allow.empty()) out << "every path";
    for (std::size_t i = 0; i < o.allow.size(); ++i) out << (i ? ", " : "") << o.allow[i];
    out << ", max_body " << format_size(o.max_body);
    if (o.allow_remote) out << ", remote callers allowed";
    out << '\n';
  }
}

}  // namespace

std::string describe(const Config& config) {
  std::ostringstream out;
  out << describe_store(config.store, config.state_dir);
  // The single-app form reads as it always did; with apps each gets its own block.
  if (config.apps.size() == 1 && config.apps.front().is_default()) {
    describe_app(config.apps.front(), "", out);
    return out.str();
  }
  for (const App& app : config.apps) {
    out << "app " << app.name << " (client_id " << app.dingtalk.client_id << ", "
        << app.dingtalk.connections << (app.dingtalk.connections == 1 ? " connection" : " connections")
        << "):\n";
    describe_app(app, "  ", out);
  }
  return out.str();
}

}  // namespace dsb::config
