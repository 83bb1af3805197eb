#include "loop/event_loop.hpp"

#include <cstring>

#include "common/log.hpp"
#include "loop/lws_log.hpp"

namespace dsb::loop {

// An lws timer with its task. `sul` first, so the pointer lws hands back converts to it.
struct EventLoop::TimerEntry {
  lws_sorted_usec_list_t sul{};
  EventLoop* loop = nullptr;
  TimerId id = 0;
  std::function<void()> fire;
};

EventLoop::EventLoop() = default;

EventLoop::~EventLoop() {
  if (context_ != nullptr) destroy();
}

Status EventLoop::create(unsigned int fd_limit) {
  route_lws_logs();
  // A protocol of the loop's own, on a vhost of its own, so posted tasks are run on
  // EVENT_WAIT_CANCELLED whatever other vhosts exist.
  static const lws_protocols protocols[] = {
      {"dsb-loop", &EventLoop::callback, 0, 0, 0, nullptr, 0},
      {nullptr, nullptr, 0, 0, 0, nullptr, 0},
  };
  lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.fd_limit_per_thread = fd_limit;
  info.user = this;
  context_ = lws_create_context(&info);
  if (context_ == nullptr) return Status::error("could not create the lws context");

  lws_context_creation_info vhost;
  std::memset(&vhost, 0, sizeof vhost);
  vhost.port = CONTEXT_PORT_NO_LISTEN;
  vhost.protocols = protocols;
  vhost.vhost_name = "dsb-loop";
  vhost.user = this;
  if (lws_create_vhost(context_, &vhost) == nullptr) {
    lws_context_destroy(context_);
    context_ = nullptr;
    return Status::error("could not create the loop's vhost");
  }
  return Status::ok();
}

void EventLoop::run() {
  quit_ = false;
  run_posted();  // tasks posted before the loop started
  while (!quit_) {
    if (lws_service(context_, 0) < 0) break;
  }
}

void EventLoop::quit() {
  quit_ = true;
  // lws_service() would otherwise go back to waiting for the next event or timer.
  lws_cancel_service(context_);
}

void EventLoop::post(std::function<void()> task) {
  // Under the lock: destroy() clears context_ under it too, so a thread posting while the
  // loop is torn down queues a task that never runs instead of touching a dead context.
  std::lock_guard lock(posted_mutex_);
  posted_.push_back(std::move(task));
  if (!wake_pending_ && context_ != nullptr) {
    wake_pending_ = true;
    lws_cancel_service(context_);
  }
}

void EventLoop::run_posted() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(posted_mutex_);
    batch.swap(posted_);
    wake_pending_ = false;
  }
  for (auto& task : batch) {
    // Tasks are our own code, but no exception may unwind into lws.
    try {
      task();
    } catch (const std::exception& e) {
      log::error("loop", "posted task threw", {{"what", e.what()}});
    }
  }
}

TimerId EventLoop::after(std::chrono::milliseconds delay, std::function<void()> fire) {
  auto entry = std::make_unique<TimerEntry>();
  entry->loop = this;
  entry->id = next_timer_++;
  entry->fire = std::move(fire);
  const TimerId id = entry->id;
  const lws_usec_t us = delay.count() > 0 ? delay.count() * LWS_US_PER_MS : 1;
  lws_sul_schedule(context_, 0, &entry->sul, &EventLoop::on_timer, us);
  timers_.emplace(id, std::move(entry));
  return id;
}

void EventLoop::cancel(TimerId timer) {
  auto it = timers_.find(timer);
  if (it == timers_.end()) return;
  lws_sul_cancel(&it->second->sul);
  timers_.erase(it);
}

void EventLoop::on_timer(lws_sorted_usec_list_t* sul) {
  auto* entry = reinterpret_cast<TimerEntry*>(sul);
  EventLoop* loop = entry->loop;
  auto it = loop->timers_.find(entry->id);
  if (it == loop->timers_.end()) return;
  std::function<void()> fire = std::move(it->second->fire);
  loop->timers_.erase(it);  // frees `entry`: lws is done with it once the callback runs
  try {
    fire();
  } catch (const std::exception& e) {
    log::error("loop", "timer task threw", {{"what", e.what()}});
  }
}

int EventLoop::callback(lws* wsi, lws_callback_reasons reason, void*, void*, size_t) {
  if (reason != LWS_CALLBACK_EVENT_WAIT_CANCELLED || wsi == nullptr) return 0;
  auto* loop = static_cast<EventLoop*>(lws_context_user(lws_get_context(wsi)));
  if (loop != nullptr) loop->run_posted();
  return 0;
}

void EventLoop::destroy() {
  for (auto& [id, entry] : timers_) lws_sul_cancel(&entry->sul);
  timers_.clear();
  lws_context* context = nullptr;
  {
    std::lock_guard lock(posted_mutex_);
    std::swap(context, context_);
  }
  if (context != nullptr) lws_context_destroy(context);
}

}  // namespace dsb::loop
