// Where the legacy formats get their nonces and random prefixes. An interface so tests can
// replay the fixed values of the reference vectors.
#pragma once

#include <cstddef>
#include <string>

namespace dsb::deliver {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // `length` characters of [A-Za-z0-9]: DingTalk's own nonces and random prefixes use this
  // alphabet, and some app decrypt routines turn the plaintext into text before slicing it.
  virtual std::string alphanumeric(std::size_t length) = 0;
};

// OpenSSL's CSPRNG (RAND_bytes), unbiased. Thread-safe; lives for the whole program.
RandomSource& system_random();

}  // namespace dsb::deliver
