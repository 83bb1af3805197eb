#include "deliver/raw_format.hpp"

#include <algorithm>
#include <cctype>

#include "deliver/signature.hpp"

namespace dsb::deliver {
namespace {

void add_if_present(Request& request, const char* name, std::string_view value) {
  if (!value.empty()) request.headers.emplace_back(name, std::string(value));
}

bool has_header(const Request& request, std::string_view name) {
  for (const auto& [existing, value] : request.headers) {
    if (existing.size() == name.size() &&
        std::equal(existing.begin(), existing.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return true;
    }
  }
  return false;
}

}  // namespace

Request build_raw_request(const config::Route& route, const std::string& url,
                          const stream::Frame& frame, std::string_view idempotency_key,
                          int64_t now_ms) {
  Request request;
  request.url = url;
  request.timeout = route.timeout;
  request.body = frame.data;
  request.headers.emplace_back("Content-Type", "application/json");
  request.headers.emplace_back("X-DingTalk-Type", std::string(stream::frame_type_name(frame.type)));
  add_if_present(request, "X-DingTalk-Topic", frame.topic());
  add_if_present(request, "X-DingTalk-Message-Id", frame.message_id());
  if (frame.type == stream::FrameType::event) {
    add_if_present(request, "X-DingTalk-Event-Type", frame.header("eventType"));
    add_if_present(request, "X-DingTalk-Event-Id", frame.header("eventId"));
    add_if_present(request, "X-DingTalk-Event-Corp-Id", frame.header("eventCorpId"));
    add_if_present(request, "X-DingTalk-Event-Born-Time", frame.header("eventBornTime"));
  }
  add_if_present(request, "Idempotency-Key", idempotency_key);
  // Static headers add to ours but never replace them: the X-DingTalk-* set always says
  // what the frame said.
  for (const auto& header : route.headers) {
    if (!has_header(request, header.first)) request.headers.push_back(header);
  }
  if (!route.signing_secret.empty()) {
    const std::string timestamp = std::to_string(now_ms);
    request.headers.emplace_back("X-Bridge-Timestamp", timestamp);
    request.headers.emplace_back("X-Bridge-Signature",
                                 bridge_signature(route.signing_secret, timestamp, request.body));
  }
  return request;
}

}  // namespace dsb::deliver
