// Remembers frames already delivered, so a redelivery is ACKed as before and not POSTed
// again (product.md section 4, "Duplicates"). Behind a small interface: the daemon uses
// store::PersistentDedupStore (SQLite, survives restarts, fixed memory) or, with replicas
// sharing a Redis store, store::SharedDedupStore (section 12); unit tests use the exact
// in-memory window below.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "stream/frame.hpp"

namespace dsb::bridge {

// Which robot message a frame carries, as far as dedup cares. One message that @-mentions
// two robots of an app arrives as two frames with one msgId, one per robotCode, and each
// must reach its own route (product.md section 10). The app joins when a bridge serves
// several (the apps issue): a third part here, before the robot code.
struct RobotMessageKey {
  std::string_view robot_code;  // data.robotCode; "" when absent
  std::string_view msg_id;      // data.msgId; "" when absent or not a robot message
};

// The id a redelivery keeps, prefixed by kind so the id spaces never collide:
//   "event:<eventId>"               events
//   "msg:<robotCode>/<msgId>"       robot messages ("/" and "%" in the robot code
//                                   percent-encoded, so the split is unambiguous)
//   "msg:<msgId>"                   robot messages without a robotCode (as before it was scoped)
//   "frame:<messageId>"             everything else (the transport id)
std::string dedup_key(const stream::Frame& frame, const RobotMessageKey& robot);

// The Idempotency-Key a webhook sees (product.md section 5): the eventId, msgId or
// messageId, unscoped. Two robots' routes given one message both see its msgId: the
// dedup scope is the bridge's business, the id is DingTalk's.
std::string_view idempotency_key(const stream::Frame& frame, const RobotMessageKey& robot);

// What became of the first arrival of a frame identity.
struct DeliveredOutcome {
  // Every URL took it, or the callback was answered: a redelivery is ACKed SUCCESS (a
  // callback's with `reply`) and POSTed nowhere.
  bool complete = true;
  std::string reply;  // complete callbacks: the ACK's data (the webhook's JSON reply)
  // Not complete: the ACK was LATER and only these URLs took it; a redelivery goes to
  // the others.
  std::vector<std::string> delivered_urls;

  // The common case, which the daemon's store answers from memory without a read.
  bool plain() const { return complete && reply.empty(); }
};

// What the store knows of a frame identity when the relay asks.
struct DedupAnswer {
  enum class State {
    // Not delivered before (or the store could not tell: a duplicate delivered again is
    // better than an event lost). On a shared store this replica now holds the claim.
    fresh,
    // Delivered before: `earlier` says how (complete, or only to some URLs). A partial
    // outcome still has URLs to deliver to; on a shared store it is not claimed.
    delivered,
    // Another replica holds the claim and is delivering it right now (shared stores only).
    elsewhere,
  };
  State state = State::fresh;
  DeliveredOutcome earlier;  // delivered only

  static DedupAnswer fresh_answer() { return {}; }
  static DedupAnswer delivered_answer(DeliveredOutcome outcome) {
    return {State::delivered, std::move(outcome)};
  }
  static DedupAnswer elsewhere_answer() { return {State::elsewhere, {}}; }
};

// Single-threaded: the relay's thread calls it and receives every answer.
//
// A store shared by several replicas (store::SharedDedupStore) makes `find` a claim: the
// replica told `fresh` delivers the frame and ends the claim with `remember` (delivered)
// or `release` (failed without a record); the others are told `elsewhere` meanwhile. A
// single replica's store never says `elsewhere` and has nothing to release.
class DedupStore {
 public:
  using Answer = std::function<void(DedupAnswer)>;

  virtual ~DedupStore() = default;
  // Calls `answer` exactly once with what the key was remembered with within the window:
  // before returning when memory can tell, else later on this thread. An answer that
  // cannot be read (store unusable) is `fresh`. `claim_ms`: how long the delivery a
  // `fresh` answer starts may take; a shared store keeps its claim at least that long.
  virtual void find(const std::string& key, int64_t now_ms, int64_t claim_ms, Answer answer) = 0;
  // Replaces what `key` was remembered with, for `window` from now (and ends a claim).
  virtual void remember(const std::string& key, DeliveredOutcome outcome, int64_t now_ms) = 0;
  // Gives up the claim a `fresh` answer took, without a record: the delivery failed, and
  // the next arrival (on any replica) delivers it again.
  virtual void release(const std::string& /*key*/) {}
};

// The whole window in memory, exact and synchronous; for tests and tools. Entries live for
// `window_ms` after they were remembered; expired ones are dropped as time passes
// (amortised O(1) per call), so memory is bounded by the frame rate x window.
class MemoryDedupStore : public DedupStore {
 public:
  explicit MemoryDedupStore(int64_t window_ms) : window_ms_(window_ms) {}

  std::optional<DeliveredOutcome> find(const std::string& key, int64_t now_ms);
  void find(const std::string& key, int64_t now_ms, int64_t /*claim_ms*/, Answer answer) override {
    auto earlier = find(key, now_ms);
    answer(earlier ? DedupAnswer::delivered_answer(std::move(*earlier)) : DedupAnswer::fresh_answer());
  }
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
