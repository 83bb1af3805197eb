// The offline stand-in for the DingTalk gateway (product.md section 8).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.hpp"

namespace dsb::emulator {

struct Options {
  std::string listen = "127.0.0.1:9300";  // port 0 picks a free port
  std::string client_id = "dingemulatorclient";
  std::string client_secret = "emulator-secret";
  // Further apps served at once: client id -> secret (emulate --client-id ID:SECRET).
  std::map<std::string, std::string> more_clients;
  int system_ping_interval_s = 0;  // send SYSTEM ping frames this often; 0 = only on request
  int demo_event_interval_s = 0;   // inject a sample EVENT this often (README demo); 0 = off
  // PEM files; both set: the one port serves HTTPS and WSS, and the open call hands out
  // wss:// endpoints. Both empty: plain HTTP and ws://. One without the other is an error.
  std::string tls_cert;
  std::string tls_key;
};

// Reads the values of `--client-id`, repeatable: each "ID" (its secret: `client_secret`)
// or "ID:SECRET". The first becomes client_id (and its secret), the others more_clients.
// None: the defaults stay. A repeated or empty id is an error.
Status set_clients(Options& options, const std::vector<std::string>& values);

// Serves until SIGTERM/SIGINT. Prints "emulator listening on HOST:PORT" to stdout (flushed)
// once bound, followed by " (tls)" when serving TLS. Returns the process exit code.
int run(const Options& options);

}  // namespace dsb::emulator
