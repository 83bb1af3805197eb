// Downstream frames as the gateway writes them (stream-protocol.md section 2): a JSON object
// with specVersion, type, string-valued headers and a JSON-encoded `data` string.
#pragma once

#include "emulator/tickets.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dsb::emulator {

using Headers = std::vector<std::pair<std::string, std::string>>;

// What a test asks for; build_frame fills in the rest.
struct FrameSpec {
  std::string type = "EVENT";  // EVENT, CALLBACK or SYSTEM
  std::string topic;           // EVENT frames always carry "*"
  std::string data = "{}";     // the data string, sent as is
  Headers headers;             // added after the defaults, replacing same-named ones
  std::string event_type;      // EVENT only; default "test_event"
  std::string event_id;        // EVENT only; default the generated id
};

// Values the builder cannot invent itself.
struct FrameIds {
  std::string message_id;
  std::string event_id;  // used when the spec gives none
  std::string app_id;
  std::string corp_id;
  std::string connection_id;  // the server-side connectionId header
  int64_t now_wall_ms = 0;
};

struct Frame {
  std::string type;
  std::string topic;
  std::string message_id;  // as finally sent (a header override wins)
  std::string event_id;    // EVENT only
  std::string event_type;  // EVENT only
  Headers headers;
  std::string data;
  std::string text;  // the serialized frame
};

Frame build_frame(const FrameSpec& spec, const FrameIds& ids);

// The value of a header, "" when absent.
std::string_view header(const Headers& headers, std::string_view name);

// Whether a connection with these subscriptions receives a frame of this type and topic:
// SYSTEM always; EVENT needs an EVENT "*" subscription; CALLBACK needs its exact topic.
bool subscribed(const std::vector<Subscription>& subscriptions, std::string_view type,
                std::string_view topic);

// A robot message's data object gets a sessionWebhook (and its expiry, epoch ms) unless it
// has them. Text that is not a JSON object is returned unchanged.
std::string with_session_webhook(std::string_view data, const std::string& url,
                                 int64_t expires_wall_ms);

inline constexpr std::string_view kRobotTopic = "/v1.0/im/bot/messages/get";

}  // namespace dsb::emulator
