// The offline stand-in for the DingTalk gateway (product.md section 8).
#pragma once

#include <string>

namespace dsb::emulator {

struct Options {
  std::string listen = "127.0.0.1:9300";  // port 0 picks a free port
  std::string client_id = "dingemulatorclient";
  std::string client_secret = "emulator-secret";
  int system_ping_interval_s = 0;  // send SYSTEM ping frames this often; 0 = only on request
  int demo_event_interval_s = 0;   // inject a sample EVENT this often (README demo); 0 = off
};

// Serves until SIGTERM/SIGINT. Prints "emulator listening on HOST:PORT" to stdout (flushed)
// once bound. Returns the process exit code.
int run(const Options& options);

}  // namespace dsb::emulator
