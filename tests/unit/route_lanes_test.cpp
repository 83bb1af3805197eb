// Per-route lanes: max_in_flight and `rate`, on a fake clock. A lane that waits for a token
// holds exactly one timer, set for the next token: nothing wakes it in between.
#include <catch2/catch.hpp>

#include <map>

#include "bridge/route_lanes.hpp"

using namespace dsb::bridge;
using Millis = std::chrono::milliseconds;

namespace {

// Timers on a manual clock: advance() fires what falls due, in time order.
class ManualTimers : public Timers {
 public:
  TimerId after(Millis delay, std::function<void()> fire) override {
    const TimerId id = next_++;
    pending_[id] = {now_ + delay.count(), std::move(fire)};
    ++scheduled;
    return id;
  }
  void cancel(TimerId id) override { pending_.erase(id); }
  int64_t now_ms() const override { return now_; }

  void advance(int64_t ms) {
    const int64_t until = now_ + ms;
    for (;;) {
      auto due = pending_.end();
      for (auto it = pending_.begin(); it != pending_.end(); ++it) {
        if (it->second.first <= until && (due == pending_.end() || it->second.first < due->second.first)) {
          due = it;
        }
      }
      if (due == pending_.end()) break;
      now_ = due->second.first;
      auto fire = std::move(due->second.second);
      pending_.erase(due);
      fire();
    }
    now_ = until;
  }
  size_t pending() const { return pending_.size(); }
  int scheduled = 0;

 private:
  int64_t now_ = 0;
  TimerId next_ = 1;
  std::map<TimerId, std::pair<int64_t, std::function<void()>>> pending_;
};

dsb::config::Route route(int max_in_flight, int per_second = 0) {
  dsb::config::Route r;
  r.name = "hooks";
  r.max_in_flight = max_in_flight;
  r.rate = dsb::config::Rate{per_second, Millis{1000}};
  return r;
}

}  // namespace

TEST_CASE("lanes: max_in_flight bounds what runs, the rest start in order", "[lanes]") {
  ManualTimers timers;
  RouteLanes lanes(timers);
  std::vector<int> started;
  for (int i = 0; i < 4; ++i) lanes.run(route(2), [&started, i] { started.push_back(i); });
  CHECK(started == std::vector<int>{0, 1});
  CHECK(lanes.waiting("hooks") == 2);
  lanes.finish("hooks");
  CHECK(started == std::vector<int>{0, 1, 2});
  lanes.finish("hooks");
  lanes.finish("hooks");
  CHECK(started == std::vector<int>{0, 1, 2, 3});
  CHECK(timers.scheduled == 0);  // no rate, no timer
}

TEST_CASE("lanes: rate 5/s starts 20 POSTs 200 ms apart with one timer at a time", "[lanes]") {
  ManualTimers timers;
  RouteLanes lanes(timers);
  std::vector<int64_t> started_at;
  for (int i = 0; i < 20; ++i) {
    // Each POST ends at once: only the rate holds the others back.
    lanes.run(route(64, 5), [&] {
      started_at.push_back(timers.now_ms());
      lanes.finish("hooks");
    });
  }
  CHECK(started_at.size() == 1);
  CHECK(timers.pending() == 1);
  for (int step = 1; step < 20; ++step) {
    timers.advance(199);
    CHECK(started_at.size() == static_cast<size_t>(step));
    timers.advance(1);
    CHECK(started_at.size() == static_cast<size_t>(step + 1));
    CHECK(timers.pending() == (step < 19 ? 1u : 0u));
  }
  CHECK(started_at.back() == 19 * 200);
  CHECK(timers.scheduled == 19);  // one per token waited for: no polling
}

TEST_CASE("lanes: rate and max_in_flight together, a waiting lane wakes on finish", "[lanes]") {
  ManualTimers timers;
  RouteLanes lanes(timers);
  int started = 0;
  for (int i = 0; i < 3; ++i) lanes.run(route(1, 10), [&] { ++started; });
  CHECK(started == 1);
  timers.advance(1000);  // tokens are due, but the one POST still runs
  CHECK(started == 1);
  CHECK(timers.pending() == 0);  // and nothing polls meanwhile
  lanes.finish("hooks");
  CHECK(started == 2);  // the token was there: started at once
  lanes.finish("hooks");
  CHECK(started == 2);  // 100 ms after the previous start
  timers.advance(100);
  CHECK(started == 3);
}

TEST_CASE("lanes: a reload that lifts the rate starts the waiting at once", "[lanes]") {
  ManualTimers timers;
  RouteLanes lanes(timers);
  int started = 0;
  lanes.run(route(64, 1), [&] { ++started; });
  lanes.run(route(64, 1), [&] { ++started; });
  CHECK(started == 1);
  CHECK(timers.pending() == 1);
  lanes.run(route(64, 0), [&] { ++started; });
  CHECK(started == 3);
  CHECK(timers.pending() == 0);
}

TEST_CASE("lanes: destroying the lanes cancels the token timer", "[lanes]") {
  ManualTimers timers;
  {
    RouteLanes lanes(timers);
    lanes.run(route(64, 1), [] {});
    lanes.run(route(64, 1), [] {});
    CHECK(timers.pending() == 1);
  }
  CHECK(timers.pending() == 0);
}
