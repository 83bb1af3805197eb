#include "emulator/frames.hpp"

#include "common/json.hpp"

#include <rapidjson/document.h>

namespace dsb::emulator {

namespace {

void set_header(Headers& headers, std::string name, std::string value) {
  for (auto& [n, v] : headers) {
    if (n == name) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

}  // namespace

std::string_view header(const Headers& headers, std::string_view name) {
  for (const auto& [n, v] : headers)
    if (n == name) return v;
  return {};
}

Frame build_frame(const FrameSpec& spec, const FrameIds& ids) {
  Frame frame;
  frame.type = spec.type;
  const bool is_event = spec.type == "EVENT";
  const std::string now = std::to_string(ids.now_wall_ms);
  Headers& h = frame.headers;
  if (spec.type != "SYSTEM") {
    set_header(h, "appId", ids.app_id);
    set_header(h, "connectionId", ids.connection_id);
  }
  set_header(h, "contentType", "application/json");
  set_header(h, "messageId", ids.message_id);
  set_header(h, "time", now);
  set_header(h, "topic", is_event ? "*" : spec.topic);
  if (is_event) {
    set_header(h, "eventType", spec.event_type.empty() ? "test_event" : spec.event_type);
    set_header(h, "eventId", spec.event_id.empty() ? ids.event_id : spec.event_id);
    set_header(h, "eventCorpId", ids.corp_id);
    set_header(h, "eventBornTime", now);
    set_header(h, "eventUnifiedAppId", ids.app_id);
  }
  for (const auto& [name, value] : spec.headers) set_header(h, name, value);

  frame.topic = header(h, "topic");
  frame.message_id = header(h, "messageId");
  if (is_event) {
    frame.event_id = header(h, "eventId");
    frame.event_type = header(h, "eventType");
  }
  frame.data = spec.data;

  std::string& t = frame.text;
  t = "{\"specVersion\":\"1.0\",\"type\":" + json::quote(frame.type) + ",\"headers\":{";
  bool first = true;
  for (const auto& [name, value] : h) {
    if (!first) t += ',';
    first = false;
    t += json::quote(name) + ':' + json::quote(value);
  }
  t += "},\"data\":" + json::quote(frame.data) + '}';
  return frame;
}

bool subscribed(const std::vector<Subscription>& subscriptions, std::string_view type,
                std::string_view topic) {
  if (type == "SYSTEM") return true;
  for (const auto& s : subscriptions) {
    if (s.type != type) continue;
    if (type == "EVENT" ? s.topic == "*" : s.topic == topic) return true;
  }
  return false;
}

std::string with_session_webhook(std::string_view data, const std::string& url,
                                 int64_t expires_wall_ms) {
  rapidjson::Document doc;
  doc.Parse(data.data(), data.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::string(data);
  auto& alloc = doc.GetAllocator();
  if (!doc.HasMember("sessionWebhook"))
    doc.AddMember("sessionWebhook", rapidjson::Value(url.c_str(), alloc), alloc);
  if (!doc.HasMember("sessionWebhookExpiredTime"))
    doc.AddMember("sessionWebhookExpiredTime", rapidjson::Value(expires_wall_ms), alloc);
  return json::write(doc);
}

}  // namespace dsb::emulator
