// The daemon's one event loop: an lws context whose thread owns every socket of the Stream
// connections (and, later, the admin endpoint), every timer, and the bridge core. Other
// threads (webhook HTTP, open calls) reach it only through post(), which queues a task and
// wakes the loop with lws_cancel_service().
//
// The context is created with explicit vhosts: each user (the Stream client, the admin
// server) adds its own vhost with its own protocols and settings (proxy, CA, listen port).
//
// Timers are the loop's own, not lws_sul: lws 4.1 turns its next sul deadline into a poll()
// timeout in whole milliseconds rounded down, so every sul wait ends in up to a millisecond
// of poll(..., 0) spinning, and it keeps suls in a sorted list (O(n) per insert; the bridge
// holds one ACK deadline per event in flight). Ours sit in a heap and wake the loop through
// one timerfd that lws polls like any socket, at the exact deadline.
#pragma once

#include <libwebsockets.h>

#include <chrono>
#include <cstdint>
#include <functional>
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

  // Creates the lws context. `fd_limit` bounds lws's per-thread fd table (the loop's timer
  // takes one entry).
  Status create(unsigned int fd_limit);
  // REQUIRES: create() succeeded.
  lws_context* context() const { return context_; }

  // Services the loop on the calling thread (the loop thread from now on) until quit().
  void run();
  // Loop thread: run() returns once the current callback is done.
  void quit();

  // Any thread: runs `task` on the loop thread soon, in posting order. Tasks posted while
  // the loop is busy run together after one wake-up.
  void post(std::function<void()> task);

  // Loop thread: runs `fire` once after `delay` (µs resolution; milliseconds convert)
  // unless cancelled first. Timers due at the same instant fire in scheduling order.
  // Cancelling an id that fired or was cancelled already is a no-op.
  TimerId after(std::chrono::microseconds delay, std::function<void()> fire);
  void cancel(TimerId timer);
  size_t pending_timers() const { return timers_.size(); }

  // Loop thread, after run() returned: cancels every timer and destroys the context. lws
  // may still call other vhosts' protocols for their leftover connections while it does,
  // so their owners must be alive (and must not schedule anything new).
  void destroy();

 private:
  struct Due {
    int64_t at_us;  // steady clock
    TimerId id;
    // std::push_heap keeps the largest on top: "greater" puts the earliest there.
    bool operator<(const Due& other) const {
      return at_us != other.at_us ? at_us > other.at_us : id > other.id;
    }
  };
  struct Timer {
    int64_t at_us;
    std::function<void()> fire;
  };

  static int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, size_t len);
  void run_posted();
  void run_due_timers();
  // Points the timerfd at the earliest live timer (or disarms it), dropping cancelled
  // entries from the top of the heap on the way.
  void arm();
  void compact_heap();

  lws_context* context_ = nullptr;
  bool quit_ = false;

  std::mutex posted_mutex_;  // guards posted_, wake_pending_, and context_ against destroy()
  std::vector<std::function<void()>> posted_;
  bool wake_pending_ = false;  // a wake is on its way: later posts need not wake again

  // Loop thread only. heap_ may still hold ids of cancelled timers (they are skipped, and
  // compacted away when they outnumber the live ones); timers_ holds the live ones.
  int timer_fd_ = -1;        // owned by lws once adopted (it closes it with the context)
  int64_t armed_at_us_ = 0;  // what the timerfd is set to; 0 = disarmed
  bool firing_ = false;      // inside run_due_timers(): it re-arms once at the end
  TimerId next_timer_ = 1;
  std::vector<Due> heap_;
  std::unordered_map<TimerId, Timer> timers_;
};

}  // namespace dsb::loop
