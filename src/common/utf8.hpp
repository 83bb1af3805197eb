// UTF-8 validation (RFC 3629): no overlong forms, surrogates or values above U+10FFFF.
// One table for every check in the project: config identifiers, graph answers.
#pragma once

#include <cstddef>
#include <string_view>

namespace dsb {

// The length of the longest prefix of `text` that is valid UTF-8: text.size() when all of
// it is; otherwise the offset of the first byte that starts no valid sequence (a sequence
// cut short by the end counts as invalid).
size_t valid_utf8_prefix(std::string_view text);

inline bool is_utf8(std::string_view text) { return valid_utf8_prefix(text) == text.size(); }

}  // namespace dsb
