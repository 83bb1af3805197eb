// Where the Stream connection hands business frames, and how ACKs come back.
// Both sides run on the stream (lws) thread: a sink that finishes work elsewhere must hop
// back to the stream thread before calling AckWriter::send_ack.
#pragma once

#include <cstdint>

#include "stream/frame.hpp"

namespace dsb::stream {

// Identifies one websocket connection for its whole life; never reused within a process.
using ConnectionId = uint64_t;

class AckWriter {
 public:
  virtual ~AckWriter() = default;
  // Queues `ack` on connection `conn` (the one the frame arrived on). A connection that has
  // gone away drops the ACK with a log line: DingTalk redelivers what was not ACKed.
  virtual void send_ack(ConnectionId conn, const Ack& ack) = 0;
};

class FrameSink {
 public:
  virtual ~FrameSink() = default;
  // Called for every well-formed EVENT or CALLBACK frame. SYSTEM frames never reach the
  // sink: the stream answers them itself. `acks` outlives the sink.
  virtual void on_frame(ConnectionId conn, Frame frame, AckWriter& acks) = 0;
};

}  // namespace dsb::stream
