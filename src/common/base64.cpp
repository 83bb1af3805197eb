#include "common/base64.hpp"

#include <openssl/evp.h>

namespace dsb {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

bool is_alphabet(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()),
                                      static_cast<int>(bytes.size()));
  out.resize(written < 0 ? 0 : static_cast<size_t>(written));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  // EVP_DecodeBlock wants whole 4-character groups with nothing but the alphabet and a
  // trailing "=", and reports padded lengths: normalize first, then trim its output.
  std::string clean;
  clean.reserve(text.size() + 3);
  size_t padding = 0;
  for (char c : text) {
    if (is_space(c)) continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    if (!is_alphabet(c) || padding > 0) return std::nullopt;
    clean += c;
  }
  if (padding > 2) return std::nullopt;
  const size_t tail = clean.size() % 4;
  if (tail == 1) return std::nullopt;
  // Given "=" must fill exactly the group they end; absent "=" are implied.
  if (padding > 0 && (tail == 0 || tail + padding != 4)) return std::nullopt;
  const size_t bytes = clean.size() / 4 * 3 + (tail == 0 ? 0 : tail - 1);
  if (tail != 0) clean.append(4 - tail, '=');
  if (clean.empty()) return std::string();

  std::string out(clean.size() / 4 * 3, '\0');
  // EVP_DecodeBlock decodes "=" as zero bits and ignores spare bits: the lenient reading.
  const int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(clean.data()),
                                      static_cast<int>(clean.size()));
  if (written < 0 || static_cast<size_t>(written) < bytes) return std::nullopt;
  out.resize(bytes);
  return out;
}

}  // namespace dsb
