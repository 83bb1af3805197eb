// Shell-style globs, as route `event` and `match` values are written (product.md sections 3
// and 10). One syntax, checked by the config and matched by the router:
//
//   *        any run of characters, also none
//   ?        exactly one character (a UTF-8 sequence counts as one)
//   [abc]    one of the listed characters; [a-z] a range; [!abc] any character but these
//   \x       the character x itself: \*, \?, \[, \], \\ (robotCode and conversationId
//            values contain = + / $ :, which need no escape; only the five above do)
//   anything else matches itself, byte for byte
//
// Classes list ASCII characters only; a non-ASCII character of the text matches only a
// negated class. `]` closes a class unless escaped, so `[]` is an empty class (an error).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace dsb {

struct GlobError {
  std::size_t position;  // 1-based character (byte) position in the pattern
  std::string message;   // "unterminated \"[\"", without the position
};

// nullopt when `pattern` is well formed. Refused: an unterminated `[`, an empty class, a
// reversed range (`[z-a]`), a non-ASCII character inside a class, a trailing `\`.
std::optional<GlobError> check_glob(std::string_view pattern);

// Whether `text` matches `pattern`. Iterative with one backtrack point (the latest `*`):
// O(pattern x text) at worst, no recursion, so no pattern can blow the stack or take
// exponential time. A pattern check_glob refuses still gets a defined answer: a stray `[`
// or a trailing `\` matches itself.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace dsb
