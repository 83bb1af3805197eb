#include "common/utf8.hpp"

namespace dsb {

// Written out rather than left to RapidJSON (kWriteValidateEncodingFlag): its check reads
// up to three bytes past a lead byte at the end of its input (found by tests/fuzz/fuzz_graph).
size_t valid_utf8_prefix(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    size_t length = 0;
    // The bounds of the second byte: RFC 3629 section 4's table, which refuses overlong
    // forms (e0, f0), surrogates (ed) and values above U+10FFFF (f4).
    unsigned char low = 0x80, high = 0xbf;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      if (lead == 0xe0) low = 0xa0;
      if (lead == 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      if (lead == 0xf0) low = 0x90;
      if (lead == 0xf4) high = 0x8f;
    } else {
      return i;
    }
    if (text.size() - i < length) return i;
    for (size_t k = 1; k < length; ++k) {
      const auto byte = static_cast<unsigned char>(text[i + k]);
      if (byte < (k == 1 ? low : 0x80) || byte > (k == 1 ? high : 0xbf)) return i;
    }
    i += length;
  }
  return i;
}

}  // namespace dsb
