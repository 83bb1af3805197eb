// json::nests_deeper_than, the guard that keeps RapidJSON's recursive parser off deeply
// nested input (found by tests/fuzz): only brackets outside strings count.
#include <catch2/catch.hpp>

#include <string>

#include "common/json.hpp"

using dsb::json::nests_deeper_than;

TEST_CASE("nests_deeper_than counts open arrays and objects", "[json]") {
  CHECK_FALSE(nests_deeper_than("", 0));
  CHECK_FALSE(nests_deeper_than("1", 0));
  CHECK(nests_deeper_than("[]", 0));
  CHECK_FALSE(nests_deeper_than("[{}]", 2));
  CHECK(nests_deeper_than("[{[]}]", 2));
  CHECK_FALSE(nests_deeper_than("[][][][]", 1));  // siblings do not add up
  CHECK(nests_deeper_than(std::string(257, '['), 256));
  CHECK_FALSE(nests_deeper_than(std::string(256, '['), 256));
}

TEST_CASE("nests_deeper_than ignores brackets inside strings, escapes included", "[json]") {
  CHECK_FALSE(nests_deeper_than(R"(["[[[[", "{{{{"])", 1));
  CHECK_FALSE(nests_deeper_than(R"(["\"[[[", "\\"])", 1));
  CHECK(nests_deeper_than(R"(["\\", [[]]])", 2));  // the string ends after the escaped "\"
  // Unbalanced closers do not lower the count below zero.
  CHECK(nests_deeper_than("]]]][[", 1));
}

#include "bridge/robot_message.hpp"

TEST_CASE("json::parse refuses what is too deep, and the webhook-reply readers survive it", "[json]") {
  const std::string deep = std::string(200'000, '[') + std::string(200'000, ']');
  rapidjson::Document doc;
  CHECK_FALSE(dsb::json::parse(doc, deep));
  CHECK(dsb::json::parse(doc, R"({"a":[1,{"b":2}]})"));
  CHECK(doc["a"][1]["b"].GetInt() == 2);
  CHECK_FALSE(dsb::json::parse(doc, "{oops"));

  const std::string deep_reply = "{\"msgtype\":" + std::string(100'000, '[') + "\"text\"" +
                                 std::string(100'000, ']') + "}";
  CHECK_FALSE(dsb::bridge::is_robot_reply(deep_reply));
  CHECK(dsb::bridge::read_robot_message(deep_reply).msg_id.empty());
  CHECK(dsb::bridge::is_robot_reply(R"({"msgtype":"text","text":{"content":"hi"}})"));
}
