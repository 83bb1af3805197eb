// One connection's outbound text messages, serialized at enqueue time with LWS_PRE bytes of
// headroom so lws_write() can put the frame header in front without a copy (style.md
// example 3). Pure; the lws callback writes front() once per WRITEABLE and then pop()s.
//
// Ordering: urgent messages (SYSTEM ping replies) go out before every normal message that is
// still queued, in their own FIFO order; normal messages (ACKs) keep FIFO order. lws_write()
// of a websocket message is all-or-nothing from our side (lws buffers any partial send
// itself), so jumping the queue never splits a message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string_view>
#include <vector>

#include "stream/frame.hpp"

namespace dsb::stream {

// The frame a queued message (an ACK) answers, so its latency can be taken when it is
// written: when that frame arrived (steady clock, µs; 0 = not timed) and its type.
struct AnsweredFrame {
  int64_t arrived_us = 0;
  FrameType type = FrameType::event;
};

class WriteQueue {
 public:
  enum class Priority { normal, urgent };

  // REQUIRES: headroom is LWS_PRE in production (tests may pass anything).
  explicit WriteQueue(size_t headroom) : headroom_(headroom) {}

  void push(std::string_view payload, Priority priority = Priority::normal, AnsweredFrame answers = {});

  bool empty() const { return urgent_.empty() && normal_.empty(); }
  size_t size() const { return urgent_.size() + normal_.size(); }

  // REQUIRES: !empty(). The next message: headroom bytes then the payload.
  std::vector<unsigned char>& front();
  // The payload of front() (for lws_write: data() + headroom, payload size).
  unsigned char* front_payload() { return front().data() + headroom_; }
  size_t front_size() { return front().size() - headroom_; }
  // REQUIRES: !empty(). What front() answers, as pushed.
  AnsweredFrame front_answers() const;
  void pop();

  void clear();

 private:
  struct Message {
    std::vector<unsigned char> bytes;
    AnsweredFrame answers;
  };
  const Message& front_message() const { return urgent_.empty() ? normal_.front() : urgent_.front(); }

  size_t headroom_;
  std::deque<Message> urgent_;
  std::deque<Message> normal_;
};

}  // namespace dsb::stream
