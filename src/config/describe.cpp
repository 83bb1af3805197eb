// `check` output. It goes to terminals and CI logs, so it shows what each route does but
// no secret: no client_secret, signing or legacy secrets, no header values (they often
// carry tokens), URLs through redact_url (user:password@ and query values masked), and the
// Redis URL through redact_redis_url.
#include <sstream>

#include "config/checks.hpp"
#include "config/loader.hpp"
#include "config/store_settings.hpp"
#include "config/units.hpp"

namespace dsb::config {

std::string describe(const Config& config) {
  std::ostringstream out;
  out << describe_store(config.store, config.state_dir);
  out << "subscriptions:\n";
  for (const Subscription& sub : config.subscriptions()) {
    out << "  " << sub.type << ' ' << sub.topic << '\n';
  }
  out << "routes (first match wins):\n";
  for (const Route& route : config.routes) {
    out << "  " << route.name << ": "
        << (route.is_callback() ? "topic " + route.topic : "event " + route.event);
    for (std::size_t i = 0; i < route.match.size(); ++i) {
      out << (i ? ", " : " match ") << route.match[i].field.text << '=' << route.match[i].glob;
    }
    out << " -> ";
    for (std::size_t i = 0; i < route.urls.size(); ++i) {
      out << (i ? ", " : "") << redact_url(route.urls[i]);
    }
    out << "\n    format " << format_name(route.format) << ", delivery "
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
  return out.str();
}

}  // namespace dsb::config
