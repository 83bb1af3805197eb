// Standard Base64 (RFC 4648 alphabet, "=" padding) over OpenSSL's EVP block coder, with the
// leniency DingTalk's legacy HTTP formats need (reference/legacy-http.md sections 1.3, 1.5).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dsb {

// One line, no newlines, "=" padded.
std::string base64_encode(std::string_view bytes);

// Decodes standard Base64, leniently:
//  - ASCII whitespace anywhere is skipped (Python's encodebytes puts "\n" every 76 chars);
//  - missing "=" padding is accepted ("aes_key" is 43 characters with no "=");
//  - non-zero spare bits in the last character are dropped, not rejected (all three official
//    aes_keys have them).
// nullopt for any other character, "=" before the end, more than two "=", or a length that
// leaves a single character in the last group (6 bits cannot make a byte).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace dsb
