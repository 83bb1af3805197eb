// The daemon's signals. The handlers only set lock-free atomics (async-signal-safe); the
// loop's tick takes what arrived with take_signals() and acts on it, logging included.
//
//   SIGTERM, SIGINT            drain, then stop (product.md section 7)
//   SIGHUP                     reload the config
//   SIGPIPE                    ignored: a peer that hangs up mid-write must not kill us
//   SIGUSR1, SIGUSR2, SIGALRM  ignored and logged: by default each one killed the process
//                              with no log and no drain (issue 12); the bridge uses none
#pragma once

#include <cstdint>
#include <vector>

namespace dsb::bridge {

void install_signal_handlers();

struct TakenSignals {
  bool stop = false;    // stays set once a stop signal came
  bool reload = false;  // at least one SIGHUP since the last take
  struct Ignored {
    const char* name;  // "SIGUSR1"
    uint32_t times;    // since the last take, >= 1
  };
  std::vector<Ignored> ignored;
};

// Loop thread: what arrived since the last call (reload and ignored ones are consumed).
TakenSignals take_signals();

}  // namespace dsb::bridge
