// Names the calling thread (as `top -H`, `ps -L`, perf and /proc/PID/task/*/comm show it),
// so an operator can tell the daemon's threads apart. Linux truncates names to 15 bytes.
#pragma once

#include <pthread.h>

namespace dsb {

inline void name_this_thread(const char* name) { pthread_setname_np(pthread_self(), name); }

}  // namespace dsb
