// sd_notify(3) for Type=notify: READY=1 once the config is loaded and the loop runs, STATUS=
// lines, WATCHDOG=1 from the loop, STOPPING=1 / RELOADING=1 around drain and reload.
//
// Every call is a no-op (returning false) when NOTIFY_SOCKET is unset or the build has no
// libsystemd (BRIDGE_HAVE_SYSTEMD undefined). Safe from any thread; none of them blocks
// (a datagram to a local socket).
#pragma once

#include <chrono>
#include <string_view>

#include "loop/event_loop.hpp"

namespace dsb::admin::systemd {

// True when the message was sent.
bool notify_ready();
// One line of status; newlines are replaced with spaces (they would end the assignment).
bool notify_status(std::string_view text);
bool notify_watchdog();
bool notify_stopping();
// Sends RELOADING=1 with MONOTONIC_USEC (which Type=notify-reload needs); follow it with
// notify_ready() once the reload is done, whatever its outcome.
bool notify_reloading();

// WATCHDOG_USEC when systemd watches this process (WatchdogSec=), else 0. Ping at least
// twice per interval.
std::chrono::microseconds watchdog_interval();

// Sends WATCHDOG=1 from the loop thread every half interval while the loop runs, so a
// stuck loop (not merely a live process) gets the daemon restarted. Does nothing when
// watchdog_interval() is 0.
class WatchdogPinger {
 public:
  // Loop thread. REQUIRES: loop.create() succeeded; `loop` outlives this object or is
  // destroyed first (destroy() cancels the timer).
  void start(loop::EventLoop& loop);
  // Loop thread. Idempotent.
  void stop();
  bool running() const { return loop_ != nullptr; }

 private:
  void schedule();

  loop::EventLoop* loop_ = nullptr;
  loop::TimerId timer_ = 0;
  std::chrono::milliseconds period_{0};
};

}  // namespace dsb::admin::systemd
