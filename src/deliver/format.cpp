#include "deliver/format.hpp"

#include "deliver/graph_format.hpp"
#include "deliver/legacy_card_format.hpp"
#include "deliver/legacy_event_format.hpp"
#include "deliver/legacy_robot_format.hpp"
#include "deliver/random.hpp"
#include "deliver/raw_format.hpp"
#include "deliver/signature.hpp"

namespace dsb::deliver {

const WebhookFormat& format_for(config::Format format) {
  static const RawFormat raw;
  static const LegacyRobotFormat robot;
  static const LegacyEventFormat event(system_random());
  static const LegacyCardFormat card;
  static const GraphFormat graph;
  switch (format) {
    case config::Format::raw: return raw;
    case config::Format::legacy_robot: return robot;
    case config::Format::legacy_event: return event;
    case config::Format::legacy_card: return card;
    case config::Format::graph: return graph;
  }
  return raw;
}

void finish_request(const config::Route& route, std::string_view message_id, int64_t now_ms,
                    Request& request) {
  // Static headers add to ours but never replace them: what the format sets is the contract.
  for (const auto& header : route.headers) {
    if (!has_header(request, header.first)) request.headers.push_back(header);
  }
  if (route.signing_secret.empty()) return;
  switch (route.signing) {
    case config::Signing::bridge_v1: {
      const std::string timestamp = std::to_string(now_ms);
      request.headers.emplace_back("X-Bridge-Timestamp", timestamp);
      request.headers.emplace_back("X-Bridge-Signature",
                                   bridge_signature(route.signing_secret, timestamp, request.body));
      return;
    }
    case config::Signing::standard_webhooks: {
      // Verifiers compare this with their clock in seconds (a 5 min tolerance is usual).
      const std::string timestamp = std::to_string(now_ms / 1000);
      request.headers.emplace_back("webhook-id", std::string(message_id));
      request.headers.emplace_back("webhook-timestamp", timestamp);
      request.headers.emplace_back(
          "webhook-signature",
          standard_webhooks_signature(route.signing_secret, message_id, timestamp, request.body));
      return;
    }
  }
}

}  // namespace dsb::deliver
