// Globs as route `event` and `match` values use them (common/glob.hpp).
#include <catch2/catch.hpp>

#include <string>

#include "common/glob.hpp"

using dsb::check_glob;
using dsb::glob_match;

TEST_CASE("glob: stars and question marks", "[glob]") {
  CHECK(glob_match("*", ""));
  CHECK(glob_match("*", "user_add_org"));
  CHECK(glob_match("bpms_*", "bpms_instance_change"));
  CHECK_FALSE(glob_match("bpms_*", "xbpms_instance_change"));
  CHECK(glob_match("*_change", "bpms_task_change"));
  CHECK(glob_match("user_?dd_org", "user_add_org"));
  CHECK_FALSE(glob_match("user_?dd_org", "user_aadd_org"));
  CHECK(glob_match("a*b*c", "aXXbYYbZc"));
  CHECK_FALSE(glob_match("a*b*c", "aXXbYYbZ"));
  CHECK(glob_match("a**c", "abc"));
  CHECK(glob_match("exact", "exact"));
  CHECK_FALSE(glob_match("exact", "exactly"));
  CHECK_FALSE(glob_match("", "x"));
  CHECK(glob_match("", ""));
  CHECK_FALSE(glob_match("?", ""));
}

TEST_CASE("glob: many stars against a long text stay fast (no exponential backtracking)",
          "[glob]") {
  CHECK_FALSE(glob_match("*a*a*a*a*a*a*a*a*b", std::string(5000, 'a')));
  CHECK_FALSE(glob_match("*[a]*[!b]*a*?*a*a*a*b", std::string(5000, 'a')));
  CHECK(glob_match("*a*a*a*a*a*a*a*a*", std::string(5000, 'a')));
}

TEST_CASE("glob: classes, ranges, negation", "[glob]") {
  CHECK(glob_match("[abc]x", "bx"));
  CHECK_FALSE(glob_match("[abc]x", "dx"));
  CHECK(glob_match("cid[0-9]*", "cid7abc"));
  CHECK_FALSE(glob_match("cid[0-9]*", "cidx7"));
  CHECK(glob_match("[!x]", "y"));
  CHECK_FALSE(glob_match("[!x]", "x"));
  CHECK(glob_match("[a-cx-z]", "y"));
  CHECK(glob_match("[-a]", "-"));   // first: itself
  CHECK(glob_match("[a-]", "-"));   // last: itself
  CHECK_FALSE(glob_match("[a-c]", "-"));
  CHECK(glob_match("[\\]]", "]"));  // an escaped ] is a member
  CHECK_FALSE(glob_match("[!]]", "x"));  // "[!]" is an empty class: check_glob refuses it
}

TEST_CASE("glob: escapes and the characters ids contain", "[glob]") {
  CHECK(glob_match("\\*", "*"));
  CHECK_FALSE(glob_match("\\*", "x"));
  CHECK(glob_match("\\?\\[\\]\\\\", "?[]\\"));
  CHECK(glob_match("cidAbC+/d=$:*", "cidAbC+/d=$:xyz"));
  CHECK_FALSE(glob_match("cidAbC+/d=$:*", "cidAbC+/e=$:xyz"));
  CHECK(glob_match("ding\\[1\\]*", "ding[1]x"));
}

TEST_CASE("glob: a UTF-8 character is one character", "[glob]") {
  const std::string ni_hao = "\xe4\xbd\xa0\xe5\xa5\xbd";  // 你好
  CHECK(glob_match("??", ni_hao));
  CHECK_FALSE(glob_match("?", ni_hao));
  CHECK_FALSE(glob_match("???", ni_hao));
  CHECK_FALSE(glob_match("*???", ni_hao));
  CHECK(glob_match("\xe4\xbd\xa0*", ni_hao + "!"));
  CHECK(glob_match("*\xe5\xa5\xbd", ni_hao));
  CHECK(glob_match("[!a]?", ni_hao));  // a non-ASCII character only matches a negated class
  CHECK_FALSE(glob_match("[a-z]?", ni_hao));
}

TEST_CASE("glob: malformed patterns have a defined meaning and a checked error", "[glob]") {
  CHECK(glob_match("a[b", "a[b"));   // a stray [ is itself
  CHECK(glob_match("a\\", "a\\"));   // a trailing \ is itself

  CHECK_FALSE(check_glob("*"));
  CHECK_FALSE(check_glob("ding[a-z0-9]*\\[\\]"));
  CHECK_FALSE(check_glob("cidAbC+/d=$:*"));
  auto error = [](const char* pattern) {
    auto e = check_glob(pattern);
    REQUIRE(e);
    return std::to_string(e->position) + ": " + e->message;
  };
  CHECK(error("ab[cd") == "3: unterminated \"[\" (write \\[ for the character itself)");
  CHECK(error("a[]") == "2: empty character class \"[]\"");
  CHECK(error("a[!]") == "2: empty character class \"[!]\"");
  CHECK(error("x[b-a]") == "3: reversed range \"b-a\" (write the lower character first)");
  CHECK(error("ab\\") == "3: trailing \"\\\" (write \\\\ for a backslash)");
  CHECK(error("[a\\") == "3: trailing \"\\\" (write \\\\ for a backslash)");
  CHECK(error("[\xc3\xa9]") == "2: a character class may list only ASCII characters");
}
