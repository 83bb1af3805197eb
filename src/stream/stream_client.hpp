// Holds `dingtalk.connections` Stream connections on the daemon's event loop: open call,
// websocket, SYSTEM ping/disconnect, keepalive, watchdog, reconnect with backoff.
//
// Everything here runs on the loop thread, except that the open calls run on a worker
// thread of the client's own (they hand results back through a queue and a loop wake-up).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "common/status.hpp"
#include "config/config.hpp"
#include "loop/event_loop.hpp"
#include "stream/frame_sink.hpp"
#include "stream/proxy.hpp"

namespace dsb::stream {

class StreamClient : public AckWriter {
 public:
  // `loop` and `sink` outlive the client.
  StreamClient(loop::EventLoop& loop, std::shared_ptr<const config::Config> config,
               FrameSink& sink);
  ~StreamClient() override;
  StreamClient(const StreamClient&) = delete;
  StreamClient& operator=(const StreamClient&) = delete;

  // Adds the client's vhost (proxy, CA) to the loop and starts connecting every slot.
  // `proxy`: resolved once by the caller (bridge/dingtalk_transport.hpp), for the open
  // call and the websocket alike; nullopt connects directly.
  // REQUIRES: loop.create() succeeded.
  Status start(std::optional<Proxy> proxy);

  // A reloaded config. New credentials, api_base or subscriptions replace every connection
  // make-before-break; a new `connections` count adds or drains slots; keepalive, reconnect
  // and max_frame apply from the next connection or timer; proxy and ca_file only on restart.
  void reconfigure(std::shared_ptr<const config::Config> config);

  // Stops taking frames and reconnecting; flushes queued ACKs, closes every connection with
  // a close frame (sockets that do not finish closing within 2 s are dropped), then runs
  // `on_closed` once on the loop thread.
  void close_all(std::function<void()> on_closed);

  // After the loop stopped and before EventLoop::destroy(): stops the worker and cancels
  // every timer. lws may still report leftover connections while the context is destroyed.
  void release();

  // Connections registered (websocket up, not yet closing).
  int connections_up() const;

  // When the newest text frame (of any type, SYSTEM pings included) arrived on any
  // connection: steady clock, µs. 0 before the first.
  int64_t newest_frame_us() const;

  // AckWriter. An ACK for a connection that is gone is dropped (DingTalk redelivers).
  void send_ack(ConnectionId conn, const Ack& ack) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dsb::stream
