// The event loop: posted tasks from other threads run on the loop thread in order; timers
// fire once, in delay order, and cancelled ones never.
#include <catch2/catch.hpp>

#include <atomic>
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

#include "loop/lws_log.hpp"

TEST_CASE("lws log lines never carry a ticket", "[loop]") {
  std::string line = "connecting to /connect?ticket=abc-123&x=1 and again ticket=zz";
  dsb::loop::redact_ticket(line);
  CHECK(line == "connecting to /connect?ticket=***&x=1 and again ticket=***");
}
