#include "deliver/random.hpp"

#include <openssl/rand.h>

#include <random>

namespace dsb::deliver {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
constexpr unsigned kAlphabetSize = sizeof kAlphabet - 1;  // 62
// Bytes at or above this are redrawn so every character is equally likely (248 = 4 * 62).
constexpr unsigned kUnbiasedLimit = 256 / kAlphabetSize * kAlphabetSize;

class OpenSslRandom : public RandomSource {
 public:
  std::string alphanumeric(std::size_t length) override {
    std::string out;
    out.reserve(length);
    unsigned char buffer[64];
    while (out.size() < length) {
      if (RAND_bytes(buffer, sizeof buffer) != 1) {
        // RAND_bytes only fails when the OS entropy source is gone; nonces need not be
        // secret, only unpredictable enough not to repeat.
        std::random_device device;
        for (unsigned char& b : buffer) b = static_cast<unsigned char>(device());
      }
      for (unsigned char b : buffer) {
        if (out.size() == length) break;
        if (b < kUnbiasedLimit) out += kAlphabet[b % kAlphabetSize];
      }
    }
    return out;
  }
};

}  // namespace

RandomSource& system_random() {
  static OpenSslRandom random;
  return random;
}

}  // namespace dsb::deliver
