// One HTTP request to one webhook URL, fully built, independent of how it is sent.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace dsb::deliver {

// How a request reaches its server. Webhooks sit beside the bridge and keep the default
// (direct, system CAs only); every request to DingTalk gets the configured one as a whole
// (bridge/dingtalk_transport.hpp), so no caller picks one field and forgets the other.
struct Transport {
  std::string proxy;  // "" sends directly, never a proxy from the environment
  // A PEM bundle trusted on top of the system CAs for this request only ("" = none):
  // dingtalk.ca_file, for DingTalk behind a TLS-inspecting proxy. Costs the request its
  // connection reuse (common/extra_ca.hpp).
  std::string extra_ca_file;
  bool operator==(const Transport&) const = default;
};

struct Request {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // in send order
  std::string body;
  std::chrono::milliseconds timeout{2500};
  Transport transport;
};

}  // namespace dsb::deliver
