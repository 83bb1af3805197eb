// Fragment reassembly with a cap; binary rejection; messageId recovery.
#include <catch2/catch.hpp>

#include <string>

#include "stream/reassembler.hpp"

using namespace dsb::stream;
using Outcome = Reassembler::Outcome;

TEST_CASE("a single-fragment message is complete at once", "[stream]") {
  Reassembler r(100);
  REQUIRE(r.feed("{\"a\":1}", true, true, false) == Outcome::complete);
  CHECK(r.take() == "{\"a\":1}");
}

TEST_CASE("fragments are joined in order", "[stream]") {
  Reassembler r(100);
  CHECK(r.feed("{\"a\"", true, false, false) == Outcome::need_more);
  CHECK(r.feed(":", false, false, false) == Outcome::need_more);
  REQUIRE(r.feed("1}", false, true, false) == Outcome::complete);
  CHECK(r.take() == "{\"a\":1}");
  // The next message starts clean.
  REQUIRE(r.feed("x", true, true, false) == Outcome::complete);
  CHECK(r.take() == "x");
}

TEST_CASE("a message beyond the cap is discarded and reported once at its end", "[stream]") {
  Reassembler r(16);
  const std::string head = R"({"headers":{"messageId":"m-9"})";
  CHECK(r.feed(head, true, false, false) == Outcome::need_more);
  CHECK(r.feed(std::string(1000, 'x'), false, false, false) == Outcome::need_more);
  REQUIRE(r.feed("}", false, true, false) == Outcome::oversized);
  CHECK(r.total_bytes() == head.size() + 1000 + 1);
  // The first chunk alone was over the cap, so nothing was retained to find the id in.
  CHECK(r.message_id().empty());

  Reassembler keeps(64);
  CHECK(keeps.feed(R"({"headers":{"messageId":"m-10"},)", true, false, false) == Outcome::need_more);
  CHECK(keeps.feed(std::string(100, 'x'), false, false, false) == Outcome::need_more);
  REQUIRE(keeps.feed("}", false, true, false) == Outcome::oversized);
  CHECK(keeps.message_id() == "m-10");
  // Then it works normally again.
  REQUIRE(keeps.feed("ok", true, true, false) == Outcome::complete);
  CHECK(keeps.take() == "ok");
}

TEST_CASE("exactly the cap is accepted", "[stream]") {
  Reassembler r(4);
  CHECK(r.feed("ab", true, false, false) == Outcome::need_more);
  REQUIRE(r.feed("cd", false, true, false) == Outcome::complete);
  CHECK(r.take() == "abcd");
}

TEST_CASE("binary messages are reported, not buffered", "[stream]") {
  Reassembler r(100);
  CHECK(r.feed("\x01\x02", true, false, true) == Outcome::need_more);
  CHECK(r.feed("\x03", false, true, true) == Outcome::binary);
  CHECK(r.total_bytes() == 3);
  REQUIRE(r.feed("t", true, true, false) == Outcome::complete);
  CHECK(r.take() == "t");
}

TEST_CASE("find_message_id reads the id from a truncated frame", "[stream]") {
  CHECK(find_message_id(R"({"headers":{"messageId" : "abc_1","topic":"x"})") == "abc_1");
  CHECK(find_message_id(R"({"headers":{"messageId":"abc)").empty());  // cut in the id
  CHECK(find_message_id(R"({"messageId":5,"headers":{"messageId":"z"}})") == "z");
  CHECK(find_message_id(R"({"headers":{"messageId":"a\"b"}})").empty());
  CHECK(find_message_id("nothing here").empty());
}
