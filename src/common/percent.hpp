// Percent-encoding (RFC 3986 section 2.1): the one "%XX" writer and reader of the project.
// Which bytes need escaping differs by use (a URL path, a query value, a dedup key part),
// so callers decide that and call append_percent_escape for each.
#pragma once

#include <string>
#include <string_view>

namespace dsb {

// Appends "%XX" for `byte`, upper-case hex as RFC 3986 recommends.
void append_percent_escape(std::string& out, unsigned char byte);

// The value of a hex digit, or -1 for any other character.
int hex_digit_value(char c);

// "%2e%2E" -> "..": every well-formed escape decoded, a malformed one ("%", "%4", "%zz")
// kept as written. The result may hold any byte, NUL included.
std::string percent_decoded(std::string_view text);

}  // namespace dsb
