// Fakes of the bridge's ports (bridge/ports.hpp) for tests that drive time and HTTP by
// hand: timers fire when the test moves the clock, requests wait until the test answers.
#pragma once

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "bridge/ports.hpp"

namespace dsb::testing {

class ManualTimers : public bridge::Timers {
 public:
  bridge::TimerId after(std::chrono::milliseconds delay, std::function<void()> fire) override {
    const bridge::TimerId id = next_++;
    pending_[id] = {now + delay.count(), std::move(fire)};
    return id;
  }
  void cancel(bridge::TimerId id) override { pending_.erase(id); }
  int64_t now_ms() const override { return now; }

  // Moves the clock forward by `ms`, firing every timer that falls due, in order.
  void advance(int64_t ms) {
    const int64_t until = now + ms;
    for (;;) {
      auto next = pending_.end();
      for (auto it = pending_.begin(); it != pending_.end(); ++it) {
        if (it->second.first <= until && (next == pending_.end() || it->second.first < next->second.first))
          next = it;
      }
      if (next == pending_.end()) break;
      now = std::max(now, next->second.first);
      auto fire = std::move(next->second.second);
      pending_.erase(next);
      fire();
    }
    now = until;
  }
  size_t pending() const { return pending_.size(); }
  // When the earliest pending timer fires, relative to now; -1 when none.
  int64_t next_in() const {
    int64_t best = -1;
    for (const auto& [id, t] : pending_) {
      if (best < 0 || t.first - now < best) best = t.first - now;
    }
    return best;
  }

  int64_t now = 0;

 private:
  bridge::TimerId next_ = 1;
  std::map<bridge::TimerId, std::pair<int64_t, std::function<void()>>> pending_;
};

class ManualWebhooks : public bridge::Webhooks {
 public:
  struct Call {
    deliver::Request request;
    std::function<void(deliver::Response)> done;

    std::string header(const std::string& name) const {
      for (const auto& [n, v] : request.headers) {
        if (n == name) return v;
      }
      return {};
    }
  };
  void post(deliver::Request request, std::function<void(deliver::Response)> done) override {
    calls.push_back({std::move(request), std::move(done)});
  }
  // Answers the i-th call.
  void answer(size_t i, int status, std::string body = "{}", std::string retry_after = "") {
    REQUIRE(i < calls.size());
    REQUIRE(calls[i].done);
    auto done = std::move(calls[i].done);
    calls[i].done = nullptr;
    deliver::Response r;
    r.status = status;
    r.body = std::move(body);
    r.retry_after = std::move(retry_after);
    if (status == 0) {
      r.error = "Connection refused";
      r.failure = deliver::Failure::unreachable;
    }
    done(r);
  }
  // Calls not answered yet.
  size_t open() const {
    size_t n = 0;
    for (const auto& c : calls) n += c.done ? 1 : 0;
    return n;
  }
  std::vector<Call> calls;
};

class ManualWallClock : public bridge::WallClock {
 public:
  int64_t now_ms() const override { return now; }
  int64_t now = 1'700'000'000'000;
};

}  // namespace dsb::testing
