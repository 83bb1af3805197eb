#include "common/glob.hpp"

namespace dsb {
namespace {

// The length of the UTF-8 character at text[i]: its lead byte's length when that many
// continuation bytes follow, else 1 (a stray byte counts as one character, so any text,
// valid UTF-8 or not, has a defined answer).
std::size_t char_length(std::string_view text, std::size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  std::size_t n = 1;
  if (lead >= 0xc2 && lead <= 0xdf) n = 2;
  else if (lead >= 0xe0 && lead <= 0xef) n = 3;
  else if (lead >= 0xf0 && lead <= 0xf4) n = 4;
  if (i + n > text.size()) return 1;
  for (std::size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) return 1;
  }
  return n;
}

// A `[...]` class opening at pattern[open]: where it ends and whether it holds `c`.
struct ClassScan {
  std::size_t end = 0;  // just past the closing `]`; 0 when malformed
  bool negated = false;
  bool holds = false;   // `c` is one of the listed characters (before negation)
  std::optional<GlobError> error;
};

// Reads one class member character at pattern[i] (an escape is two bytes) into `out`.
std::optional<GlobError> read_class_char(std::string_view pattern, std::size_t& i,
                                         unsigned char& out) {
  if (pattern[i] == '\\') {
    if (i + 1 >= pattern.size()) return GlobError{i + 1, "trailing \"\\\" (write \\\\ for a backslash)"};
    ++i;
  }
  const auto c = static_cast<unsigned char>(pattern[i]);
  if (c >= 0x80) return GlobError{i + 1, "a character class may list only ASCII characters"};
  out = c;
  ++i;
  return std::nullopt;
}

// `c` is the text's byte when ASCII; a non-ASCII character is held by no class.
ClassScan scan_class(std::string_view pattern, std::size_t open, std::optional<unsigned char> c) {
  ClassScan scan;
  std::size_t i = open + 1;
  if (i < pattern.size() && pattern[i] == '!') {
    scan.negated = true;
    ++i;
  }
  const std::size_t first = i;
  while (i < pattern.size() && pattern[i] != ']') {
    const std::size_t member_at = i;
    unsigned char low = 0;
    if ((scan.error = read_class_char(pattern, i, low))) return scan;
    unsigned char high = low;
    // A `-` first, last or escaped is itself; between two characters it is a range.
    if (i + 1 < pattern.size() && pattern[i] == '-' && pattern[i + 1] != ']') {
      ++i;
      if ((scan.error = read_class_char(pattern, i, high))) return scan;
      if (high < low) {
        scan.error = GlobError{member_at + 1, "reversed range \"" +
                                                  std::string(pattern.substr(member_at, i - member_at)) +
                                                  "\" (write the lower character first)"};
        return scan;
      }
    }
    if (c && *c >= low && *c <= high) scan.holds = true;
  }
  if (i >= pattern.size()) {
    scan.error = GlobError{open + 1, "unterminated \"[\" (write \\[ for the character itself)"};
  } else if (i == first) {
    scan.error = GlobError{open + 1, "empty character class \"" +
                                         std::string(pattern.substr(open, i + 1 - open)) + "\""};
  } else {
    scan.end = i + 1;
  }
  return scan;
}

// Matches the one-character token at pattern[p] (not `*`) against the character at
// text[t]. On a match, advances p and t past them.
bool match_token(std::string_view pattern, std::size_t& p, std::string_view text, std::size_t& t) {
  const char token = pattern[p];
  if (token == '?') {
    ++p;
    t += char_length(text, t);
    return true;
  }
  if (token == '[') {
    const std::size_t length = char_length(text, t);
    const std::optional<unsigned char> c =
        length == 1 && static_cast<unsigned char>(text[t]) < 0x80
            ? std::optional<unsigned char>(static_cast<unsigned char>(text[t]))
            : std::nullopt;
    ClassScan scan = scan_class(pattern, p, c);
    if (scan.end != 0) {
      if (scan.holds == scan.negated) return false;
      p = scan.end;
      t += length;
      return true;
    }
    // Malformed: the `[` is a literal, below.
  }
  std::size_t literal = p;
  if (token == '\\' && p + 1 < pattern.size()) literal = p + 1;
  if (pattern[literal] != text[t]) return false;
  p = literal + 1;
  ++t;
  return true;
}

}  // namespace

std::optional<GlobError> check_glob(std::string_view pattern) {
  std::size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] == '\\') {
      if (i + 1 >= pattern.size()) {
        return GlobError{i + 1, "trailing \"\\\" (write \\\\ for a backslash)"};
      }
      i += 2;
    } else if (pattern[i] == '[') {
      ClassScan scan = scan_class(pattern, i, std::nullopt);
      if (scan.error) return scan.error;
      i = scan.end;
    } else {
      ++i;
    }
  }
  return std::nullopt;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0;
  // The latest `*` and where in the text its run ends so far. On a mismatch the star
  // takes one more character and matching resumes after it: with every other token one
  // character wide, retrying only the latest star is enough (an earlier star taking
  // more could only be undone by the later one).
  std::size_t star = std::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (p < pattern.size() && match_token(pattern, p, text, t)) {
      // p and t advanced
    } else if (star != std::string_view::npos) {
      p = star + 1;
      star_text += char_length(text, star_text);
      t = star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace dsb
