// Remembers frames already delivered, so a redelivery is ACKed as before and not POSTed
// again (product.md section 4, "Duplicates"). Behind a small interface: the daemon uses
// store::PersistentDedupStore (SQLite, survives restarts) with this in-memory window as its
// cache; unit tests use the window alone.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "stream/frame.hpp"

namespace dsb::bridge {

// The id a redelivery keeps: eventId for events, msgId (inside data) for robot messages,
// else the transport messageId. Prefixed by kind so the id spaces never collide.
// `data_msg_id` is the robot message's data.msgId when the caller has parsed it, else "".
std::string dedup_key(const stream::Frame& frame, std::string_view data_msg_id);

// What the first delivery was ACKed with, to ACK the redelivery the same way.
struct DeliveredOutcome {
  int code = 200;
  std::string data;  // the ACK's data (JSON text)
};

class DedupStore {
 public:
  virtual ~DedupStore() = default;
  virtual std::optional<DeliveredOutcome> find(const std::string& key, int64_t now_ms) = 0;
  virtual void remember(const std::string& key, DeliveredOutcome outcome, int64_t now_ms) = 0;
};

// Entries live for `window_ms` after they were remembered; expired ones are dropped as
// time passes (amortised O(1) per call), so memory is bounded by the frame rate x window.
class MemoryDedupStore : public DedupStore {
 public:
  explicit MemoryDedupStore(int64_t window_ms) : window_ms_(window_ms) {}

  std::optional<DeliveredOutcome> find(const std::string& key, int64_t now_ms) override;
  void remember(const std::string& key, DeliveredOutcome outcome, int64_t now_ms) override;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    DeliveredOutcome outcome;
    int64_t expires_ms;
  };
  void prune(int64_t now_ms);

  int64_t window_ms_;
  std::unordered_map<std::string, Entry> entries_;
  // Keys in the order they were remembered, with the expiry they had then; a key
  // remembered again appears twice and the stale copy is skipped when it comes up.
  std::deque<std::pair<std::string, int64_t>> expiry_order_;
};

}  // namespace dsb::bridge
