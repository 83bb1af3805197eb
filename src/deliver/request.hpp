// One HTTP request to one webhook URL, fully built, independent of how it is sent.
#pragma once

#include <algorithm>
#include <cctype>
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dsb::deliver {

// How a request reaches its server. Webhooks sit beside the bridge and keep the default
// (direct, system CAs only); every request to DingTalk gets the configured one as a whole
// (bridge/dingtalk_transport.hpp), so no caller picks one field and forgets the other.
struct Transport {
  std::string proxy;  // "http://host:port"; "" sends directly, never a proxy from the environment
  // A PEM bundle trusted on top of the system CAs for this request only ("" = none):
  // dingtalk.ca_file, for DingTalk behind a TLS-inspecting proxy. Costs the request its
  // connection reuse (common/extra_ca.hpp).
  std::string extra_ca_file;
  // The proxy's credentials, raw (not percent-encoded); "" for none. Secret: never logged.
  std::string proxy_username;
  std::string proxy_password;
  bool operator==(const Transport&) const = default;
};

struct Request {
  // Any HTTP token method. POST and other methods send `body` (an empty one as
  // Content-Length: 0); GET with an empty body and HEAD send none.
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // in send order
  std::string body;
  std::chrono::milliseconds timeout{2500};
  Transport transport;
  // Collect the answer's headers and reason phrase into Response (formats that pass the
  // whole answer on ask; the others do not pay for it).
  bool want_response_headers = false;
};

// Whether `request` already has header `name` (compared case-insensitively).
inline bool has_header(const Request& request, std::string_view name) {
  return std::any_of(request.headers.begin(), request.headers.end(), [&](const auto& header) {
    const std::string& existing = header.first;
    return existing.size() == name.size() &&
           std::equal(existing.begin(), existing.end(), name.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) ==
                    std::tolower(static_cast<unsigned char>(b));
           });
  });
}

}  // namespace dsb::deliver
