#include "bridge/dedup.hpp"

namespace dsb::bridge {

std::string dedup_key(const stream::Frame& frame, std::string_view data_msg_id) {
  if (frame.type == stream::FrameType::event) {
    std::string_view event_id = frame.header("eventId");
    if (!event_id.empty()) return "event:" + std::string(event_id);
  }
  if (!data_msg_id.empty()) return "msg:" + std::string(data_msg_id);
  return "frame:" + std::string(frame.message_id());
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
