// The bridge core's ports (ports.hpp) bound to the real world: timers on the event loop,
// webhook POSTs on the HTTP thread with completions posted back to the loop, the wall clock.
#pragma once

#include <memory>
#include <unordered_map>

#include "bridge/ports.hpp"
#include "deliver/http_client.hpp"
#include "loop/event_loop.hpp"
#include "store/backend.hpp"

namespace dsb::bridge {

class LoopTimers : public Timers {
 public:
  explicit LoopTimers(loop::EventLoop& loop) : loop_(loop) {}
  TimerId after(std::chrono::milliseconds delay, std::function<void()> fire) override {
    return loop_.after(delay, std::move(fire));
  }
  void cancel(TimerId timer) override { loop_.cancel(timer); }
  int64_t now_ms() const override;

 private:
  loop::EventLoop& loop_;
};

class SystemWallClock : public WallClock {
 public:
  int64_t now_ms() const override;
};

// Webhook requests go to the HTTP thread; its completions come back in batches, one task on
// the loop per batch, where each `done` runs. Loop thread only, except the HTTP thread's
// hand-off.
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

// The store's spool, with every completion moved from the store thread to the loop.
class LoopSpool : public Spool {
 public:
  LoopSpool(loop::EventLoop& loop, store::Backend& store) : loop_(loop), store_(store) {}

  void append(store::SpoolEntry entry, std::function<void(Status)> done) override;
  void due(int64_t now_ms, size_t limit,
           std::function<void(std::vector<store::DueDelivery>)> done) override;
  void record_success(int64_t delivery_id, store::Attempt attempt) override {
    store_.record_success(delivery_id, std::move(attempt));
  }
  void record_failure(int64_t delivery_id, store::Attempt attempt, int64_t retry_at_ms) override {
    store_.record_failure(delivery_id, std::move(attempt), retry_at_ms);
  }
  void dead_letter(int64_t delivery_id, store::Attempt attempt) override {
    store_.dead_letter(delivery_id, std::move(attempt));
  }
  void release(int64_t delivery_id) override { store_.release(delivery_id); }
  bool can_record_outcomes() const override { return store_.unrecorded_outcomes() == 0; }

 private:
  loop::EventLoop& loop_;
  store::Backend& store_;
};

}  // namespace dsb::bridge
