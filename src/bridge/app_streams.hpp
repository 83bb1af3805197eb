// One StreamClient per app (product.md section 12): each app has its own connections,
// credentials, subscriptions and tickets, and hands its frames to the one Relay tagged
// with its name (AppFrames). A reload adds, reconfigures and removes apps one by one, so
// an app the reload did not change keeps its connections as they are.
//
// Loop thread only. A removed app's connections close (close frames, ACKs flushed) once
// the relay owes none of its frames an ACK; its client stays allocated, closed, until the
// daemon ends: lws keeps referring to a vhost's user data after its last connection.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bridge/dingtalk_transport.hpp"
#include "bridge/relay.hpp"
#include "common/status.hpp"
#include "config/config.hpp"
#include "deliver/request.hpp"
#include "loop/event_loop.hpp"
#include "stream/stream_client.hpp"

namespace dsb::bridge {

class AppStreams {
 public:
  // REQUIRES: `loop` and `relay` outlive this object.
  AppStreams(loop::EventLoop& loop, Relay& relay, stream::Getenv getenv_fn);
  ~AppStreams();
  AppStreams(const AppStreams&) = delete;
  AppStreams& operator=(const AppStreams&) = delete;

  // Resolves each app's proxy and CA (logged once when unusable). Before start().
  void resolve(const config::Config& config);
  // Starts every app's client. REQUIRES: loop.create() succeeded.
  Status start();
  // A reloaded config: new apps start, changed ones reconfigure, removed ones retire.
  void reconfigure(const std::shared_ptr<const config::Config>& config);
  // Closes the connections of removed apps whose frames the relay no longer holds.
  void on_tick();

  // How `app`'s requests to DingTalk go (its proxy and CA); resolved now when unknown.
  deliver::Transport transport_for(const config::App& app) const;
  // One line per app with no registered connection; empty when every app has one.
  std::vector<std::string> not_ready_reasons() const;
  // Connections registered, over every active app.
  int connections_up() const;
  // The newest frame on any app's connections (steady µs), 0 before the first.
  int64_t newest_frame_us() const;
  // Connections the config asks for, over every app (the event loop's fd budget).
  static int connections_wanted(const config::Config& config);

  // Closes every client (active and retired), then runs `on_closed` once.
  void close_all(std::function<void()> on_closed);
  // After the loop stopped, before EventLoop::destroy(): StreamClient::release() for all.
  void release();

 private:
  struct App;

  std::unique_ptr<App> make(const std::shared_ptr<const config::Config>& config,
                            const config::App& app);
  App* find(const std::string& name) const;

  loop::EventLoop& loop_;
  Relay& relay_;
  stream::Getenv getenv_;
  std::vector<std::unique_ptr<App>> apps_;     // the config's, in its order
  std::vector<std::unique_ptr<App>> retired_;  // removed by a reload: closing or closed
};

}  // namespace dsb::bridge
