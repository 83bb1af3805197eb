#include "bridge/daemon.hpp"

#include <csignal>
#include <string>

#include "bridge/dispatcher.hpp"
#include "common/log.hpp"
#include "stream/stream_client.hpp"

namespace dsb::bridge {
namespace {

// The signal handler may only touch what is async-signal-safe: request_stop() sets an atomic.
stream::StreamClient* g_running_client = nullptr;

extern "C" void on_stop_signal(int) {
  if (g_running_client != nullptr) g_running_client->request_stop();
}

void install_signal_handlers() {
  struct sigaction stop {};
  stop.sa_handler = on_stop_signal;
  sigemptyset(&stop.sa_mask);
  sigaction(SIGTERM, &stop, nullptr);
  sigaction(SIGINT, &stop, nullptr);

  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  // A webhook or gateway that hangs up mid-write must not kill the process.
  sigaction(SIGPIPE, &ignore, nullptr);
}

}  // namespace

int run_daemon(const config::Config& config) {
  log::configure(config.log.level, config.log.format);
  log::info("bridge", "starting",
            {{"version", BRIDGE_VERSION},
             {"config", config.source_file},
             {"routes", std::to_string(config.routes.size())},
             {"connections", std::to_string(config.dingtalk.connections)}});

  Dispatcher dispatcher;
  stream::StreamClient client(config, dispatcher);
  g_running_client = &client;
  install_signal_handlers();

  const int code = client.run();

  g_running_client = nullptr;
  log::info("bridge", "stopped", {{"exit_code", std::to_string(code)}});
  return code;
}

}  // namespace dsb::bridge
