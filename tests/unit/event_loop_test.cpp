// The event loop: posted tasks from other threads run on the loop thread in order; timers
// fire once, in delay order, and cancelled ones never.
#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "loop/event_loop.hpp"

using dsb::loop::EventLoop;
using namespace std::chrono_literals;

TEST_CASE("tasks posted from other threads run on the loop thread, in order", "[loop]") {
  EventLoop loop;
  REQUIRE(loop.create(64).is_ok());
  std::vector<int> seen;
  std::thread::id loop_thread;
  std::thread poster([&] {
    for (int i = 0; i < 1000; ++i) loop.post([&seen, i] { seen.push_back(i); });
    loop.post([&] {
      loop_thread = std::this_thread::get_id();
      loop.quit();
    });
  });
  loop.after(10s, [&] { FAIL("the loop never saw the posted tasks"); });
  loop.run();
  poster.join();
  CHECK(loop_thread == std::this_thread::get_id());
  REQUIRE(seen.size() == 1000);
  for (int i = 0; i < 1000; ++i) CHECK(seen[static_cast<size_t>(i)] == i);
  loop.destroy();
}

TEST_CASE("timers fire once in delay order, cancelled timers do not fire", "[loop]") {
  EventLoop loop;
  REQUIRE(loop.create(64).is_ok());
  std::vector<std::string> fired;
  loop.after(30ms, [&] { fired.push_back("b"); });
  auto cancelled = loop.after(20ms, [&] { fired.push_back("cancelled"); });
  loop.after(10ms, [&] { fired.push_back("a"); });
  loop.after(50ms, [&] {
    fired.push_back("c");
    loop.quit();
  });
  loop.cancel(cancelled);
  loop.cancel(cancelled);  // twice is harmless
  loop.run();
  CHECK(fired == std::vector<std::string>{"a", "b", "c"});
  CHECK(loop.pending_timers() == 0);
  loop.destroy();
}

TEST_CASE("a timer may schedule and cancel others from inside its task", "[loop]") {
  EventLoop loop;
  REQUIRE(loop.create(64).is_ok());
  int count = 0;
  dsb::loop::TimerId victim = loop.after(40ms, [&] { count += 100; });
  loop.after(5ms, [&] {
    loop.cancel(victim);
    loop.after(5ms, [&] {
      ++count;
      loop.quit();
    });
  });
  loop.run();
  CHECK(count == 1);
  loop.destroy();
}

TEST_CASE("timers due at the same instant fire in the order they were scheduled", "[loop]") {
  EventLoop loop;
  REQUIRE(loop.create(64).is_ok());
  std::vector<int> fired;
  // One deadline for all: 0 is clamped to the same 1 us, and the heap must not reorder.
  for (int i = 0; i < 200; ++i) loop.after(0us, [&fired, i] { fired.push_back(i); });
  loop.after(20ms, [&] { loop.quit(); });
  loop.run();
  REQUIRE(fired.size() == 200);
  for (int i = 0; i < 200; ++i) CHECK(fired[static_cast<size_t>(i)] == i);
  loop.destroy();
}

TEST_CASE("a timer never fires before its delay, at microsecond resolution", "[loop]") {
  EventLoop loop;
  REQUIRE(loop.create(64).is_ok());
  std::vector<std::chrono::microseconds> early;
  int fired = 0;
  for (std::chrono::microseconds delay : {300us, 1500us, 2700us, 10000us}) {
    const auto scheduled = std::chrono::steady_clock::now();
    loop.after(delay, [&, delay, scheduled] {
      const auto waited = std::chrono::steady_clock::now() - scheduled;
      if (waited < delay) {
        early.push_back(std::chrono::duration_cast<std::chrono::microseconds>(waited));
      }
      if (++fired == 4) loop.quit();
    });
  }
  loop.run();
  CHECK(fired == 4);
  CHECK(early.empty());
  loop.destroy();
}

TEST_CASE("thousands of cancelled timers leave the live ones firing in order", "[loop]") {
  EventLoop loop;
  REQUIRE(loop.create(64).is_ok());
  std::vector<int> fired;
  std::vector<dsb::loop::TimerId> cancelled;
  // Interleaved with the live ones, earlier and later, so compaction runs between them.
  for (int i = 0; i < 5000; ++i) {
    cancelled.push_back(
        loop.after(std::chrono::microseconds(1000 + i), [&] { fired.push_back(-1); }));
    if (i % 1000 == 0) {
      loop.after(std::chrono::microseconds(2000 + i), [&fired, i] { fired.push_back(i); });
    }
  }
  for (auto id : cancelled) loop.cancel(id);
  CHECK(loop.pending_timers() == 5);
  loop.after(50ms, [&] { loop.quit(); });
  loop.run();
  CHECK(fired == std::vector<int>{0, 1000, 2000, 3000, 4000});
  CHECK(loop.pending_timers() == 0);
  loop.destroy();
}

TEST_CASE("a timer that re-schedules itself at once does not starve posted tasks", "[loop]") {
  EventLoop loop;
  REQUIRE(loop.create(64).is_ok());
  int ticks = 0;
  bool posted_ran = false;
  std::function<void()> tick = [&] {
    // Bounded: the test fails rather than spins if posted tasks never get their turn.
    if (++ticks < 200000 && !posted_ran) loop.after(0us, tick);
    else loop.quit();
  };
  loop.after(0us, tick);
  std::thread poster([&] {
    std::this_thread::sleep_for(5ms);
    loop.post([&] { posted_ran = true; });
  });
  loop.run();
  poster.join();
  CHECK(posted_ran);
  CHECK(ticks < 200000);
  loop.destroy();
}

TEST_CASE("timers scheduled before create() fire once the loop runs", "[loop]") {
  EventLoop loop;
  bool fired = false;
  loop.after(1ms, [&] {
    fired = true;
    loop.quit();
  });
  REQUIRE(loop.create(64).is_ok());
  loop.after(5s, [&] { loop.quit(); });
  loop.run();
  CHECK(fired);
  loop.destroy();
}

#include "loop/timer.hpp"

TEST_CASE("an owned timer: scheduling again replaces the shot, its end cancels it", "[loop]") {
  EventLoop loop;
  REQUIRE(loop.create(64).is_ok());
  std::vector<std::string> fired;
  dsb::loop::Timer replaced(loop);
  replaced.schedule(5ms, [&] { fired.push_back("first"); });
  replaced.schedule(10ms, [&] { fired.push_back("second"); });
  {
    dsb::loop::Timer gone(loop);
    gone.schedule(5ms, [&] { fired.push_back("gone"); });
  }
  dsb::loop::Timer again(loop);
  int shots = 0;
  std::function<void()> shoot = [&] {
    if (++shots < 3) again.schedule(1ms, shoot);  // re-scheduled from its own shot
  };
  again.schedule(1ms, shoot);
  loop.after(50ms, [&] { loop.quit(); });
  loop.run();
  CHECK(fired == std::vector<std::string>{"second"});
  CHECK(shots == 3);
  CHECK(loop.pending_timers() == 0);
  loop.destroy();
}

#include "loop/lws_log.hpp"

TEST_CASE("lws log lines never carry a ticket", "[loop]") {
  std::string line = "connecting to /connect?ticket=abc-123&x=1 and again ticket=zz";
  dsb::loop::redact_ticket(line);
  CHECK(line == "connecting to /connect?ticket=***&x=1 and again ticket=***");
}
