// Backoff: doubling from initial to the cap, jitter bounds, reset, rejected-credentials jump.
#include <catch2/catch.hpp>

#include "stream/backoff.hpp"

using dsb::stream::Backoff;
using ms = std::chrono::milliseconds;

TEST_CASE("backoff doubles from initial and stops at max (no jitter)", "[stream]") {
  Backoff b(ms{1000}, ms{60000}, [] { return 0.0; });
  CHECK(b.next() == ms{1000});
  CHECK(b.next() == ms{2000});
  CHECK(b.next() == ms{4000});
  CHECK(b.next() == ms{8000});
  CHECK(b.next() == ms{16000});
  CHECK(b.next() == ms{32000});
  CHECK(b.next() == ms{60000});
  CHECK(b.next() == ms{60000});
  CHECK(b.failures() == 8);
  for (int i = 0; i < 200; ++i) b.next();  // no overflow however long it fails
  CHECK(b.next() == ms{60000});
}

TEST_CASE("backoff jitter stays within 80% to 100% of the base", "[stream]") {
  Backoff low(ms{1000}, ms{60000}, [] { return 0.999999; });
  CHECK(low.next() == ms{800});
  CHECK(low.next() == ms{1600});
  CHECK(low.next() == ms{3200});

  Backoff half(ms{1000}, ms{60000}, [] { return 0.5; });
  CHECK(half.next() == ms{900});
  CHECK(half.next() == ms{1800});

  Backoff real(ms{1000}, ms{60000});
  for (int i = 0; i < 50; ++i) {
    const auto d = real.next();
    CHECK(d <= ms{60000});
    CHECK(d >= ms{800});
  }
}

TEST_CASE("backoff reset starts again from initial", "[stream]") {
  Backoff b(ms{500}, ms{10000}, [] { return 0.0; });
  b.next();
  b.next();
  CHECK(b.next() == ms{2000});
  b.reset();
  CHECK(b.failures() == 0);
  CHECK(b.next() == ms{500});
}

TEST_CASE("rejected credentials put the backoff at its maximum", "[stream]") {
  Backoff b(ms{1000}, ms{60000}, [] { return 0.0; });
  b.jump_to_max();
  CHECK(b.next() == ms{60000});
  CHECK(b.next() == ms{60000});
  Backoff jittered(ms{1000}, ms{60000}, [] { return 0.999999; });
  jittered.jump_to_max();
  CHECK(jittered.next() == ms{48000});
}

TEST_CASE("backoff tolerates max below initial and out-of-range random values", "[stream]") {
  Backoff b(ms{5000}, ms{1000}, [] { return 7.0; });
  CHECK(b.max() == ms{5000});
  CHECK(b.next() == ms{4000});  // random clamped to 1.0
}
