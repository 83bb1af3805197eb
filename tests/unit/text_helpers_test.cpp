// The shared text helpers: UTF-8 validation and percent-encoding (common/utf8, common/percent).
#include <catch2/catch.hpp>

#include <string>

#include "common/percent.hpp"
#include "common/utf8.hpp"

using namespace std::string_literals;

TEST_CASE("valid_utf8_prefix accepts RFC 3629 sequences and stops at the first bad one", "[text]") {
  CHECK(dsb::is_utf8(""));
  CHECK(dsb::is_utf8("plain ascii\x01\x7f"));
  CHECK(dsb::is_utf8("\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80"));  // é, 中, an emoji
  CHECK(dsb::is_utf8("\xf4\x8f\xbf\xbf"));                        // U+10FFFF
  CHECK_FALSE(dsb::is_utf8("\xc0\xaf"));                          // overlong "/"
  CHECK_FALSE(dsb::is_utf8("\xe0\x80\xaf"));                      // overlong, 3 bytes
  CHECK_FALSE(dsb::is_utf8("\xed\xa0\x80"));                      // a surrogate
  CHECK_FALSE(dsb::is_utf8("\xf4\x90\x80\x80"));                  // above U+10FFFF
  CHECK_FALSE(dsb::is_utf8("\xf5\x80\x80\x80"));
  CHECK_FALSE(dsb::is_utf8("\x80"));
  CHECK(dsb::valid_utf8_prefix("ab\xe4\xb8") == 2);  // cut short by the end
  CHECK(dsb::valid_utf8_prefix("a\xc3\xa9z\xff") == 4);
}

TEST_CASE("append_percent_escape writes upper-case hex", "[text]") {
  std::string out = "x";
  dsb::append_percent_escape(out, 0x00);
  dsb::append_percent_escape(out, 0x2f);
  dsb::append_percent_escape(out, 0xfe);
  CHECK(out == "x%00%2F%FE");
}

TEST_CASE("percent_decoded decodes well-formed escapes and keeps malformed ones", "[text]") {
  CHECK(dsb::percent_decoded("%2e%2E") == "..");
  CHECK(dsb::percent_decoded("a%3bb") == "a;b");
  CHECK(dsb::percent_decoded("%00") == "\0"s);
  CHECK(dsb::percent_decoded("%") == "%");
  CHECK(dsb::percent_decoded("%4") == "%4");
  CHECK(dsb::percent_decoded("%zz%41") == "%zzA");
  CHECK(dsb::percent_decoded("100%") == "100%");
  CHECK(dsb::hex_digit_value('f') == 15);
  CHECK(dsb::hex_digit_value('G') == -1);
}
