// The bridge core's ports (ports.hpp) bound to the real world: timers on the event loop,
// webhook POSTs on the HTTP thread with completions posted back to the loop, the wall clock.
#pragma once

#include <memory>
#include <unordered_map>

#include "bridge/ports.hpp"
#include "deliver/http_client.hpp"
#include "loop/event_loop.hpp"

namespace dsb::bridge {

class LoopTimers : public Timers {
 public:
  explicit LoopTimers(loop::EventLoop& loop) : loop_(loop) {}
  TimerId after(std::chrono::milliseconds delay, std::function<void()> fire) override {
    return loop_.after(delay, std::move(fire));
  }
  void cancel(TimerId timer) override { loop_.cancel(timer); }

 private:
  loop::EventLoop& loop_;
};

class SystemWallClock : public WallClock {
 public:
  int64_t now_ms() const override;
};

// Webhook requests go to the HTTP thread; each completion comes back as a task on the loop,
// where its `done` runs. Loop thread only, except the HTTP thread's hand-off.
class HttpWebhooks : public Webhooks {
 public:
  HttpWebhooks(loop::EventLoop& loop, deliver::HttpClient::Options options);
  ~HttpWebhooks() override;

  void post(deliver::Request request, std::function<void(deliver::Response)> done) override;
  size_t in_flight() const { return pending_.size(); }

  // Stops the HTTP thread (requests still running are reported as failed, to a loop that
  // will not run them). Call before the loop is destroyed.
  void shutdown();

 private:
  void complete(deliver::Completion completion);

  loop::EventLoop& loop_;
  std::unique_ptr<deliver::HttpClient> client_;
  std::unordered_map<deliver::RequestId, std::function<void(deliver::Response)>> pending_;
};

}  // namespace dsb::bridge
