// The bridge core's entry point: every business frame from the stream comes here and
// leaves with exactly one ACK.
//
// Until the relay lands (routing, webhook delivery), the dispatcher ACKs on arrival:
// EVENT -> SUCCESS, CALLBACK -> {"response":null}. It already runs through the real ACK path
// (AckWriter -> the connection the frame came on).
#pragma once

#include "stream/frame_sink.hpp"

namespace dsb::bridge {

class Dispatcher : public stream::FrameSink {
 public:
  void on_frame(stream::ConnectionId conn, stream::Frame frame, stream::AckWriter& acks) override;
};

}  // namespace dsb::bridge
