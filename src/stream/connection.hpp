// One websocket connection's state, owned by the lws thread (StreamClient::Impl). Plain
// data plus its timers (on the event loop); the behaviour lives in stream_client.cpp.
//
// Lifecycle: connecting -> up -> (draining) -> closing -> gone.
//   draining: the gateway asked us to go (SYSTEM disconnect) or the silence watchdog fired;
//             a replacement is being made, ACKs still flow, the close comes when the
//             replacement is up or after the drain timeout.
//   closing:  a close was decided; queued ACKs flush first, then the close frame.
#pragma once

#include <libwebsockets.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "loop/event_loop.hpp"
#include "loop/timer.hpp"
#include "stream/frame_sink.hpp"
#include "stream/reassembler.hpp"
#include "stream/write_queue.hpp"

namespace dsb::stream {

enum class ConnState { connecting, up, draining, closing };

using loop::Timer;

std::string_view conn_state_name(ConnState state);

struct Connection {
  Connection(loop::EventLoop& loop, ConnectionId id_, int slot_, size_t max_frame)
      : id(id_), slot(slot_), reassembler(max_frame), ping_timer(loop),
        pong_timer(loop), silence_timer(loop), drain_timer(loop) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  ConnectionId id;
  int slot;
  struct lws* wsi = nullptr;  // set by lws_client_connect_via_info(pwsi); null once gone
  ConnState state = ConnState::connecting;
  std::string endpoint;  // without the query (no ticket): safe to log

  WriteQueue queue{LWS_PRE};
  Reassembler reassembler;

  bool ping_due = false;       // a websocket PING is to be written at the next WRITEABLE
  bool awaiting_pong = false;  // a PING went out and no inbound data came since
  bool close_requested = false;
  bool counted_up = false;     // included in dsb_connections_up
  bool healthy = false;        // received a frame: the slot's backoff resets
  bool replaced = false;       // draining, and its replacement is up
  // messageIds handed to the sink and not ACKed yet, with the frame each ACK will answer
  // (dsb_ack_latency_seconds); a replaced connection closes when this empties (or at the
  // drain deadline).
  std::unordered_map<std::string, AnsweredFrame> owed;
  std::string close_reason;    // for the "connection closed" line and the reconnect reason

  int64_t opened_us = 0;       // when the open call for it started (for connect_ms)
  int64_t established_us = 0;
  int64_t last_rx_us = 0;      // any inbound data, pongs included (keepalive)
  int64_t last_frame_us = 0;   // last complete text frame (silence watchdog)

  Timer ping_timer;     // ping_idle check
  Timer pong_timer;     // pong_timeout
  Timer silence_timer;  // silence watchdog
  Timer drain_timer;    // drain deadline after disconnect

  void cancel_timers() {
    ping_timer.cancel();
    pong_timer.cancel();
    silence_timer.cancel();
    drain_timer.cancel();
  }
};

}  // namespace dsb::stream
