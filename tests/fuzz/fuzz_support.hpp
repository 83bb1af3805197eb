// What the three fuzz targets share: an invariant check that aborts (libFuzzer then saves
// the input as a crash), and the rule that no exception may leave LLVMFuzzerTestOneInput.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>

// Aborts with the broken invariant; for cheap checks of a contract the code under test states.
#define FUZZ_CHECK(cond)                                                             \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                  \
    }                                                                                \
  } while (0)

namespace dsb::fuzz {

// Runs `body`; an exception escaping it is a bug (the data path reports through Status and
// load_string through its errors), so it is reported and turned into a crash.
template <typename F>
int guarded(F&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "exception escaped: %s\n", e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "non-std exception escaped\n");
    std::abort();
  }
  return 0;
}

}  // namespace dsb::fuzz
