// A one-shot timer on the event loop that belongs to one object: scheduling it again
// replaces the pending shot, and it is cancelled when its owner goes. Loop thread only.
#pragma once

#include <chrono>
#include <functional>

#include "loop/event_loop.hpp"

namespace dsb::loop {

class Timer {
 public:
  explicit Timer(EventLoop& loop) : loop_(&loop) {}
  ~Timer() { cancel(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void schedule(std::chrono::microseconds delay, std::function<void()> fire) {
    cancel();
    id_ = loop_->after(delay, [this, fire = std::move(fire)] {
      id_ = 0;  // before fire(), which may re-schedule or destroy this timer
      fire();
    });
  }
  void cancel() {
    if (id_ != 0) loop_->cancel(id_);
    id_ = 0;
  }

 private:
  EventLoop* loop_;
  TimerId id_ = 0;
};

}  // namespace dsb::loop
