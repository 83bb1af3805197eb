#include "bridge/dedup.hpp"

#include "common/percent.hpp"

namespace dsb::bridge {

namespace {

// A part of a key that another part follows: "/" separates them, so it and the escape
// character are percent-encoded; so are control characters, the key being a header value.
void append_part(std::string& key, std::string_view part) {
  for (char c : part) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '/' || c == '%' || byte < 0x20 || byte == 0x7f) {
      append_percent_escape(key, byte);
    } else {
      key += c;
    }
  }
  key += '/';
}

}  // namespace

std::string dedup_key(const stream::Frame& frame, const RobotMessageKey& robot) {
  if (frame.type == stream::FrameType::event) {
    std::string_view event_id = frame.header("eventId");
    if (!event_id.empty()) return "event:" + std::string(event_id);
  }
  if (!robot.msg_id.empty()) {
    std::string key = "msg:";
    if (!robot.robot_code.empty()) append_part(key, robot.robot_code);
    key += robot.msg_id;
    return key;
  }
  return "frame:" + std::string(frame.message_id());
}

std::string_view idempotency_key(const stream::Frame& frame, const RobotMessageKey& robot) {
  if (frame.type == stream::FrameType::event) {
    std::string_view event_id = frame.header("eventId");
    if (!event_id.empty()) return event_id;
  }
  if (!robot.msg_id.empty()) return robot.msg_id;
  return frame.message_id();
}

std::optional<DeliveredOutcome> MemoryDedupStore::find(const std::string& key, int64_t now_ms) {
  prune(now_ms);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second.outcome;
}

void MemoryDedupStore::remember(const std::string& key, DeliveredOutcome outcome,
                                int64_t now_ms) {
  prune(now_ms);
  const int64_t expires = now_ms + window_ms_;
  entries_[key] = Entry{std::move(outcome), expires};
  expiry_order_.emplace_back(key, expires);
}

void MemoryDedupStore::prune(int64_t now_ms) {
  while (!expiry_order_.empty() && expiry_order_.front().second <= now_ms) {
    auto& [key, expires] = expiry_order_.front();
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second.expires_ms == expires) entries_.erase(it);
    expiry_order_.pop_front();
  }
}

}  // namespace dsb::bridge
