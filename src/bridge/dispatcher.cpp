#include "bridge/dispatcher.hpp"

#include <string>

#include "admin/metrics.hpp"
#include "common/log.hpp"

namespace dsb::bridge {

void Dispatcher::on_frame(stream::ConnectionId conn, stream::Frame frame,
                          stream::AckWriter& acks) {
  const std::string type(stream::frame_type_name(frame.type));
  metrics::global()
      .counter("dsb_frames_total", {{"type", type}, {"topic", std::string(frame.topic())}})
      .inc();
  log::info("bridge", "frame received",
            {{"type", type},
             {"topic", std::string(frame.topic())},
             {"message_id", std::string(frame.message_id())},
             {"event_type", std::string(frame.header("eventType"))},
             {"conn", std::to_string(conn)}});

  if (frame.type == stream::FrameType::event) {
    acks.send_ack(conn, stream::ack_event(frame.message_id(), /*success=*/true));
  } else {
    acks.send_ack(conn, stream::ack_callback(frame.message_id(), "null"));
  }
}

}  // namespace dsb::bridge
