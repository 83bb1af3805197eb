// Holds `dingtalk.connections` Stream connections on one lws context and thread: open call,
// websocket, SYSTEM ping/disconnect, keepalive, watchdog, reconnect with backoff.
#pragma once

#include <atomic>
#include <memory>

#include "config/config.hpp"
#include "stream/frame_sink.hpp"

namespace dsb::stream {

class StreamClient : public AckWriter {
 public:
  StreamClient(const config::Config& config, FrameSink& sink);
  ~StreamClient() override;
  StreamClient(const StreamClient&) = delete;
  StreamClient& operator=(const StreamClient&) = delete;

  // Runs the event loop on the calling thread until stop() has been asked and the
  // connections are closed (with a close frame). Returns 0 after a clean stop, 1 when the
  // loop could not start (the reason is logged).
  int run();

  // Thread- and signal-safe: ask run() to close every connection and return.
  void request_stop();

  // AckWriter; stream thread only.
  void send_ack(ConnectionId conn, const Ack& ack) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dsb::stream
