#include "bridge/dingtalk_transport.hpp"

#include <cstdlib>

namespace dsb::bridge {

deliver::Transport dingtalk_transport(const config::Config& config) {
  deliver::Transport transport;
  transport.proxy = config.dingtalk.proxy;
  for (const char* name : {"HTTPS_PROXY", "https_proxy"}) {
    if (!transport.proxy.empty()) break;
    const char* value = std::getenv(name);
    if (value != nullptr) transport.proxy = value;
  }
  transport.extra_ca_file = config.dingtalk.ca_file;
  return transport;
}

}  // namespace dsb::bridge
