// One HTTP request to one webhook URL, fully built, independent of how it is sent.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace dsb::deliver {

struct Request {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // in send order
  std::string body;
  std::chrono::milliseconds timeout{2500};
  // "" sends directly. Webhooks sit beside the bridge and never use a proxy; replies to
  // DingTalk (sessionWebhook) use the configured one.
  std::string proxy;
};

}  // namespace dsb::deliver
