#include "loop/event_loop.hpp"

#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "loop/lws_log.hpp"

namespace dsb::loop {
namespace {

// Cancelled timers left in the heap beyond this many (and beyond the live ones) are dropped
// in one pass: memory stays bounded at high event rates, the pass stays rare.
constexpr size_t kHeapSlack = 1024;

}  // namespace

EventLoop::EventLoop() = default;

EventLoop::~EventLoop() {
  if (context_ != nullptr) destroy();
}

Status EventLoop::create(unsigned int fd_limit) {
  route_lws_logs();
  // A protocol of the loop's own, on a vhost of its own, so posted tasks are run on
  // EVENT_WAIT_CANCELLED whatever other vhosts exist, and the timerfd has a home.
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

  lws_context_creation_info vhost_info;
  std::memset(&vhost_info, 0, sizeof vhost_info);
  vhost_info.port = CONTEXT_PORT_NO_LISTEN;
  vhost_info.protocols = protocols;
  vhost_info.vhost_name = "dsb-loop";
  vhost_info.user = this;
  lws_vhost* vhost = lws_create_vhost(context_, &vhost_info);
  if (vhost == nullptr) {
    destroy();
    return Status::error("could not create the loop's vhost");
  }

  const int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) {
    destroy();
    return Status::error(std::string("could not create the loop's timer: ") + std::strerror(errno));
  }
  lws_sock_file_fd_type desc;
  desc.filefd = fd;
  if (lws_adopt_descriptor_vhost(vhost, LWS_ADOPT_RAW_FILE_DESC, desc, "dsb-loop", nullptr) ==
      nullptr) {
    ::close(fd);
    destroy();
    return Status::error("could not add the loop's timer to the lws context");
  }
  timer_fd_ = fd;
  armed_at_us_ = 0;
  arm();  // timers scheduled before create()
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

TimerId EventLoop::after(std::chrono::microseconds delay, std::function<void()> fire) {
  const TimerId id = next_timer_++;
  const int64_t at = steady_us() + std::max<int64_t>(delay.count(), 1);
  timers_.emplace(id, Timer{at, std::move(fire)});
  heap_.push_back(Due{at, id});
  std::push_heap(heap_.begin(), heap_.end());
  // A later deadline than the armed one needs no syscall: the timerfd wakes us earlier,
  // and run_due_timers() re-arms for what is next. While timers are being run, the pass
  // re-arms once at its end.
  if (!firing_ && (armed_at_us_ == 0 || at < armed_at_us_)) arm();
  return id;
}

void EventLoop::cancel(TimerId timer) {
  // The heap entry stays: it is skipped when it reaches the top. Arming is left as it is:
  // at worst the loop wakes once at the cancelled deadline and re-arms.
  if (timers_.erase(timer) == 0) return;
  if (heap_.size() > 2 * timers_.size() + kHeapSlack) compact_heap();
}

void EventLoop::compact_heap() {
  heap_.clear();
  heap_.reserve(timers_.size());
  for (const auto& [id, timer] : timers_) heap_.push_back(Due{timer.at_us, id});
  std::make_heap(heap_.begin(), heap_.end());
}

void EventLoop::arm() {
  while (!heap_.empty() && timers_.count(heap_.front().id) == 0) {
    std::pop_heap(heap_.begin(), heap_.end());
    heap_.pop_back();
  }
  const int64_t at = heap_.empty() ? 0 : heap_.front().at_us;
  if (at == armed_at_us_) return;
  armed_at_us_ = at;
  if (timer_fd_ < 0) return;  // before create() or after destroy(): armed on create()
  itimerspec spec{};          // all zero disarms
  spec.it_value.tv_sec = static_cast<time_t>(at / 1'000'000);
  spec.it_value.tv_nsec = static_cast<long>(at % 1'000'000) * 1000;
  if (timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr) != 0) {
    log::error("loop", "cannot arm the loop's timer", {{"error", std::strerror(errno)}});
  }
}

void EventLoop::run_due_timers() {
  uint64_t expirations = 0;
  // Drains the readiness; a spurious or early wake (none should happen) only re-arms.
  if (::read(timer_fd_, &expirations, sizeof expirations) < 0 && errno != EAGAIN) {
    log::error("loop", "cannot read the loop's timer", {{"error", std::strerror(errno)}});
  }
  armed_at_us_ = 0;  // a one-shot timerfd that fired is disarmed
  const int64_t now = steady_us();
  // Timers scheduled by the ones fired here are due after `now`: they wait for the next
  // wake-up, so a timer that re-schedules itself at once cannot starve the loop.
  firing_ = true;
  while (!heap_.empty() && heap_.front().at_us <= now) {
    const TimerId id = heap_.front().id;
    std::pop_heap(heap_.begin(), heap_.end());
    heap_.pop_back();
    auto it = timers_.find(id);
    if (it == timers_.end()) continue;  // cancelled
    std::function<void()> fire = std::move(it->second.fire);
    timers_.erase(it);
    try {
      fire();
    } catch (const std::exception& e) {
      log::error("loop", "timer task threw", {{"what", e.what()}});
    }
  }
  firing_ = false;
  arm();
}

int EventLoop::callback(lws* wsi, lws_callback_reasons reason, void*, void*, size_t) {
  if (wsi == nullptr) return 0;
  auto* loop = static_cast<EventLoop*>(lws_context_user(lws_get_context(wsi)));
  if (loop == nullptr) return 0;
  switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
      loop->run_posted();
      return 0;
    case LWS_CALLBACK_RAW_RX_FILE:
      if (loop->timer_fd_ >= 0) loop->run_due_timers();
      return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
      loop->timer_fd_ = -1;  // lws closed it (context teardown)
      return 0;
    default:
      return 0;
  }
}

void EventLoop::destroy() {
  timers_.clear();
  heap_.clear();
  armed_at_us_ = 0;
  lws_context* context = nullptr;
  {
    std::lock_guard lock(posted_mutex_);
    std::swap(context, context_);
  }
  if (context != nullptr) lws_context_destroy(context);
  timer_fd_ = -1;
}

}  // namespace dsb::loop
