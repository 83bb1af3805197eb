#include "admin/systemd_notify.hpp"

#include <ctime>
#include <string>

#ifdef BRIDGE_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace dsb::admin::systemd {

namespace {

bool send(const std::string& message) {
#ifdef BRIDGE_HAVE_SYSTEMD
  // unset_environment = 0: the watchdog and later notifications still need NOTIFY_SOCKET.
  return sd_notify(0, message.c_str()) > 0;
#else
  (void)message;
  return false;
#endif
}

}  // namespace

bool notify_ready() { return send("READY=1"); }

bool notify_status(std::string_view text) {
  std::string line = "STATUS=";
  for (char c : text) line += (c == '\n' || c == '\r') ? ' ' : c;
  return send(line);
}

bool notify_watchdog() { return send("WATCHDOG=1"); }

bool notify_stopping() { return send("STOPPING=1"); }

bool notify_reloading() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const long long usec = static_cast<long long>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1'000;
  return send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

std::chrono::microseconds watchdog_interval() {
#ifdef BRIDGE_HAVE_SYSTEMD
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0) return std::chrono::microseconds(usec);
#endif
  return std::chrono::microseconds(0);
}

void WatchdogPinger::start(loop::EventLoop& loop) {
  if (loop_ != nullptr) return;
  const auto interval = watchdog_interval();
  if (interval.count() <= 0) return;
  period_ = std::chrono::duration_cast<std::chrono::milliseconds>(interval / 2);
  if (period_.count() <= 0) period_ = std::chrono::milliseconds(1);
  loop_ = &loop;
  notify_watchdog();
  schedule();
}

void WatchdogPinger::schedule() {
  timer_ = loop_->after(period_, [this] {
    notify_watchdog();
    schedule();
  });
}

void WatchdogPinger::stop() {
  if (loop_ == nullptr) return;
  loop_->cancel(timer_);
  loop_ = nullptr;
}

}  // namespace dsb::admin::systemd
