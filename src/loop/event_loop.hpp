// The daemon's one event loop: an lws context whose thread owns every socket of the Stream
// connections (and, later, the admin endpoint), every timer, and the bridge core. Other
// threads (webhook HTTP, open calls) reach it only through post(), which queues a task and
// wakes the loop with lws_cancel_service().
//
// The context is created with explicit vhosts: each user (the Stream client, the admin
// server) adds its own vhost with its own protocols and settings (proxy, CA, listen port).
#pragma once

#include <libwebsockets.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "common/status.hpp"

namespace dsb::loop {

using TimerId = uint64_t;

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Creates the lws context. `fd_limit` bounds lws's per-thread fd table.
  Status create(unsigned int fd_limit);
  // REQUIRES: create() succeeded.
  lws_context* context() const { return context_; }

  // Services the loop on the calling thread (the loop thread from now on) until quit().
  void run();
  // Loop thread: run() returns once the current callback is done.
  void quit();

  // Any thread: runs `task` on the loop thread soon, in posting order.
  void post(std::function<void()> task);

  // Loop thread: runs `fire` once after `delay` unless cancelled first. Cancelling an id
  // that fired or was cancelled already is a no-op.
  TimerId after(std::chrono::milliseconds delay, std::function<void()> fire);
  void cancel(TimerId timer);
  size_t pending_timers() const { return timers_.size(); }

  // Loop thread, after run() returned: cancels every timer and destroys the context. lws
  // may still call other vhosts' protocols for their leftover connections while it does,
  // so their owners must be alive (and must not schedule anything new).
  void destroy();

 private:
  struct TimerEntry;
  static int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len);
  static void on_timer(lws_sorted_usec_list_t* sul);
  void run_posted();

  lws_context* context_ = nullptr;
  bool quit_ = false;

  std::mutex posted_mutex_;  // guards posted_, wake_pending_, and context_ against destroy()
  std::vector<std::function<void()>> posted_;
  bool wake_pending_ = false;  // a wake is on its way: later posts need not wake again

  TimerId next_timer_ = 1;
  std::unordered_map<TimerId, std::unique_ptr<TimerEntry>> timers_;
};

}  // namespace dsb::loop
