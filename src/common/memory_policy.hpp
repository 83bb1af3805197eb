// How the daemon's process uses malloc, set once at start-up.
#pragma once

namespace dsb {

// Large buffers (a multi-megabyte frame being reassembled, its parsed copy, a webhook body)
// get pages of their own that go back to the kernel when freed. glibc's default does that
// only until the first such buffer is freed: it then raises its mmap threshold to that
// buffer's size (up to 32 MiB), so later big frames are carved from the heap arenas and
// stay resident after use; a daemon that met a few 4 MiB frames once would keep tens of
// MiB for months. Fixing the threshold turns that adjustment off.
void return_large_buffers_to_the_kernel();

}  // namespace dsb
