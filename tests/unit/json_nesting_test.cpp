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
