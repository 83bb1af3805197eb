// The per-connection write queue: LWS_PRE headroom and ping replies first.
#include <catch2/catch.hpp>

#include <string>

#include "stream/write_queue.hpp"

using namespace dsb::stream;

namespace {

std::string front_text(WriteQueue& q) {
  return std::string(reinterpret_cast<const char*>(q.front_payload()), q.front_size());
}

}  // namespace

TEST_CASE("messages keep headroom before the payload", "[stream]") {
  WriteQueue q(16);
  q.push("hello");
  REQUIRE(q.size() == 1);
  CHECK(q.front().size() == 16 + 5);
  CHECK(q.front_payload() == q.front().data() + 16);
  CHECK(front_text(q) == "hello");
}

TEST_CASE("urgent messages jump ahead of queued normal ones, FIFO among themselves", "[stream]") {
  WriteQueue q(4);
  q.push("ack1");
  q.push("ack2");
  q.push("pong1", WriteQueue::Priority::urgent);
  q.push("ack3");
  q.push("pong2", WriteQueue::Priority::urgent);
  std::vector<std::string> order;
  while (!q.empty()) {
    order.push_back(front_text(q));
    q.pop();
  }
  CHECK(order == std::vector<std::string>{"pong1", "pong2", "ack1", "ack2", "ack3"});
}

TEST_CASE("clear empties both lanes", "[stream]") {
  WriteQueue q(0);
  q.push("a");
  q.push("b", WriteQueue::Priority::urgent);
  q.clear();
  CHECK(q.empty());
  CHECK(q.size() == 0);
}

TEST_CASE("each message keeps the frame it answers, whatever the order it leaves in", "[stream]") {
  WriteQueue q(4);
  q.push("event ack", WriteQueue::Priority::normal, {1000, FrameType::event});
  q.push("pong", WriteQueue::Priority::urgent, {2000, FrameType::system});
  q.push("untimed");
  CHECK(front_text(q) == "pong");
  CHECK(q.front_answers().arrived_us == 2000);
  CHECK(q.front_answers().type == FrameType::system);
  q.pop();
  CHECK(q.front_answers().arrived_us == 1000);
  CHECK(q.front_answers().type == FrameType::event);
  q.pop();
  CHECK(q.front_answers().arrived_us == 0);
}
