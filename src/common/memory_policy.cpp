#include "common/memory_policy.hpp"

#include <malloc.h>

namespace dsb {

void return_large_buffers_to_the_kernel() {
#if defined(__GLIBC__)
  // 256 KiB: well above what an ordinary event needs (a few KiB), so steady traffic is not
  // paying an mmap per buffer; anything bigger is rare and worth handing back.
  constexpr int kLargeBuffer = 256 * 1024;
  mallopt(M_MMAP_THRESHOLD, kLargeBuffer);
  // Free space at the top of the main heap is trimmed past this (glibc would raise it with
  // the mmap threshold, too).
  mallopt(M_TRIM_THRESHOLD, 2 * kLargeBuffer);
#endif
}

}  // namespace dsb
