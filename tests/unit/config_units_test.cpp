// The config loader's small parts: durations, sizes, ${VAR} substitution, "did you mean".
#include <catch2/catch.hpp>

#include "config/substitution.hpp"
#include "config/suggest.hpp"
#include "config/units.hpp"
#include "fixtures/config/fake_environment.hpp"

using namespace std::chrono_literals;
using dsb::config::closest_match;
using dsb::config::edit_distance;
using dsb::config::format_duration;
using dsb::config::parse_duration;
using dsb::config::parse_size;
using dsb::config::substitute;
using dsb::config::testing::FakeEnvironment;

TEST_CASE("durations: units and combinations", "[config]") {
  CHECK(parse_duration("250ms").value() == 250ms);
  CHECK(parse_duration("3s").value() == 3s);
  CHECK(parse_duration("5m").value() == 5min);
  CHECK(parse_duration("1h").value() == 1h);
  CHECK(parse_duration("1m30s").value() == 90s);
  CHECK(parse_duration("1h2m3s4ms").value() == 3'723'004ms);
  CHECK(parse_duration("0s").value() == 0ms);
}

TEST_CASE("durations: bad spellings are refused with the usage", "[config]") {
  for (const char* text : {"5x", "5", "", "s", "-1s", "1.5s", "5 s", "1m30", "ms", "3S"}) {
    auto parsed = parse_duration(text);
    REQUIRE_FALSE(parsed.is_ok());
    CHECK(parsed.status().message() == "invalid duration \"" + std::string(text) +
                                           "\": use a number followed by ms, s, m or h");
  }
  auto huge = parse_duration("99999999999999999h");
  REQUIRE_FALSE(huge.is_ok());
  CHECK(huge.status().message() == "duration \"99999999999999999h\" is too large");
}

TEST_CASE("durations format back to config spelling", "[config]") {
  CHECK(format_duration(2500ms) == "2500ms");
  CHECK(format_duration(90s) == "1m30s");
  CHECK(format_duration(1h) == "1h");
  CHECK(format_duration(24h) == "24h");
  CHECK(format_duration(5min) == "5m");
}

TEST_CASE("sizes: bytes, binary and decimal units", "[config]") {
  CHECK(parse_size("1048576").value() == 1'048'576u);
  CHECK(parse_size("4MiB").value() == 4u * 1024 * 1024);
  CHECK(parse_size("512KiB").value() == 512u * 1024);
  CHECK(parse_size("1GiB").value() == 1024u * 1024 * 1024);
  CHECK(parse_size("2KB").value() == 2'000u);
  CHECK(parse_size("3MB").value() == 3'000'000u);
  CHECK(parse_size("4 MiB").value() == 4u * 1024 * 1024);
  for (const char* text : {"4XB", "", "MiB", "4mib", "-1", "4  MiB", "1.5MiB"}) {
    auto parsed = parse_size(text);
    REQUIRE_FALSE(parsed.is_ok());
    CHECK(parsed.status().message() ==
          "invalid size \"" + std::string(text) +
              "\": use a number of bytes, optionally followed by KiB, MiB, GiB, KB, MB or GB");
  }
  CHECK_FALSE(parse_size("99999999999999999999GiB").is_ok());
}

TEST_CASE("substitution: ${VAR}, defaults, several per string, escape", "[config]") {
  FakeEnvironment env;
  env.vars = {{"HOST", "127.0.0.1"}, {"PORT", "8080"}, {"EMPTY", ""}};
  auto run = [&](std::string_view text) {
    auto out = substitute(text, env);
    REQUIRE(out.errors.empty());
    return out.value;
  };
  CHECK(run("plain") == "plain");
  CHECK(run("${HOST}") == "127.0.0.1");
  CHECK(run("http://${HOST}:${PORT}/x") == "http://127.0.0.1:8080/x");
  CHECK(run("${UNSET:-fallback}") == "fallback");
  CHECK(run("${HOST:-fallback}") == "127.0.0.1");
  CHECK(run("${EMPTY:-fallback}") == "fallback");  // as in the shell: empty counts as unset
  CHECK(run("${EMPTY}") == "");
  CHECK(run("${UNSET:-}") == "");
  CHECK(run("${UNSET:-a:b-c}") == "a:b-c");
  CHECK(run("$${HOST}") == "${HOST}");
  CHECK(run("pa$$word$") == "pa$$word$");
  CHECK(run("$HOST") == "$HOST");
}

TEST_CASE("substitution: problems are named, text is not echoed", "[config]") {
  FakeEnvironment env;
  auto unset = substitute("a${ONE}b${TWO}", env);
  CHECK(unset.errors == std::vector<std::string>{"environment variable ONE is not set",
                                                 "environment variable TWO is not set"});
  CHECK(substitute("secret${OPEN", env).errors ==
        std::vector<std::string>{"\"${\" without a closing \"}\""});
  CHECK(substitute("${1X}", env).errors ==
        std::vector<std::string>{
            "invalid variable name \"1X\" (use letters, digits and _; ${NAME} or ${NAME:-default})"});
  CHECK(substitute("${}", env).errors.size() == 1);
}

TEST_CASE("did you mean: close keys only", "[config]") {
  std::vector<std::string_view> keys = {"name", "topic", "event", "url", "timeout", "max_in_flight"};
  CHECK(closest_match("timout", keys) == "timeout");
  CHECK(closest_match("nmae", keys) == "name");  // a swap is one edit
  CHECK(closest_match("urls", keys) == "url");
  CHECK(closest_match("Topic", keys) == "topic");
  CHECK(closest_match("max-in-flight", keys) == "max_in_flight");
  CHECK_FALSE(closest_match("colour", keys).has_value());
  CHECK_FALSE(closest_match("x", keys).has_value());
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("", "abc") == 3);
}
