// OrderedQueues: per-key FIFO, one running per key, idle keys forgotten.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "bridge/ordered_queues.hpp"

using dsb::bridge::OrderedQueues;

TEST_CASE("ordered queues: one start per key at a time, in the order put in", "[order]") {
  OrderedQueues queues;
  std::vector<std::string> started;
  auto start = [&](std::string name) { return [&started, name] { started.push_back(name); }; };
  queues.run("a", start("a1"));
  queues.run("b", start("b1"));
  queues.run("a", start("a2"));
  queues.run("a", start("a3"));
  CHECK(started == std::vector<std::string>{"a1", "b1"});
  CHECK(queues.keys() == 2);
  CHECK(queues.waiting() == 2);

  queues.finish("a");
  CHECK(started.back() == "a2");
  queues.finish("b");  // b had nothing more: forgotten
  CHECK(queues.keys() == 1);
  queues.finish("a");
  CHECK(started.back() == "a3");
  queues.finish("a");
  CHECK(started == std::vector<std::string>{"a1", "b1", "a2", "a3"});
  CHECK(queues.keys() == 0);  // memory for idle keys is released
  CHECK(queues.waiting() == 0);
}

TEST_CASE("ordered queues: a start that finishes at once lets the next start, without recursion",
          "[order]") {
  OrderedQueues queues;
  int blocked = 0;
  int ran = 0;
  // The first one blocks the key; 10,000 queued behind it each finish inside their start.
  queues.run("k", [&] { ++blocked; });
  for (int i = 0; i < 10'000; ++i) {
    queues.run("k", [&] {
      ++ran;
      queues.finish("k");
    });
  }
  CHECK(ran == 0);
  queues.finish("k");
  CHECK(ran == 10'000);
  CHECK(blocked == 1);
  CHECK(queues.keys() == 0);
}

TEST_CASE("ordered queues: a start may queue more of its own or other keys", "[order]") {
  OrderedQueues queues;
  std::vector<std::string> started;
  queues.run("a", [&] {
    started.push_back("a1");
    queues.run("a", [&] { started.push_back("a2"); });  // behind a1 itself
    queues.run("b", [&] { started.push_back("b1"); });  // another key: at once
  });
  CHECK(started == std::vector<std::string>{"a1", "b1"});
  queues.finish("a");
  CHECK(started.back() == "a2");
  queues.finish("a");
  queues.finish("b");
  CHECK(queues.keys() == 0);
}

TEST_CASE("ordered queues: clear drops the waiting starts, late finishes are no-ops", "[order]") {
  OrderedQueues queues;
  int ran = 0;
  queues.run("a", [&] { ++ran; });
  queues.run("a", [&] { ++ran; });
  queues.clear();
  queues.finish("a");
  queues.finish("unknown");
  CHECK(ran == 1);
  CHECK(queues.keys() == 0);
}
