// Websocket message reassembly with a size cap (style.md example 3). Pure: the lws callback
// feeds it each fragment with lws's first/final/binary flags.
//
// Contract: at most `max_bytes` of one message are ever held. A message that grows past the
// cap stops being buffered (the rest is discarded as it arrives) and is reported once, at its
// final fragment, as `oversized`, with the messageId when the retained prefix shows one.
// Binary messages are never buffered either and are reported as `binary`.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dsb::stream {

class Reassembler {
 public:
  enum class Outcome {
    need_more,  // message not finished yet
    complete,   // take() returns the whole text message
    oversized,  // exceeded max_bytes; total_bytes() says how big it got
    binary,     // a binary message (the Stream protocol only sends text)
  };

  explicit Reassembler(size_t max_bytes) : max_bytes_(max_bytes) {}

  Outcome feed(std::string_view chunk, bool first, bool final, bool binary);

  // REQUIRES: the last feed() returned complete. Leaves the reassembler empty.
  std::string take();

  // After oversized/binary: the size of the whole message and its messageId if found.
  size_t total_bytes() const { return total_; }
  const std::string& message_id() const { return message_id_; }

 private:
  size_t max_bytes_;
  std::string buffer_;
  size_t total_ = 0;
  bool discarding_ = false;
  bool binary_ = false;
  std::string message_id_;
};

// Best-effort lookup of "messageId":"..." in a (possibly truncated) frame text, for ACKing
// a frame that cannot be parsed. "" when not found.
std::string find_message_id(std::string_view text);

}  // namespace dsb::stream
