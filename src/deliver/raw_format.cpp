#include "deliver/raw_format.hpp"

namespace dsb::deliver {
namespace {

void add_if_present(Request& request, const char* name, std::string_view value) {
  if (!value.empty()) request.headers.emplace_back(name, std::string(value));
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
  // The X-DingTalk-* set always says what the frame said: static headers cannot forge it.
  finish_request(route, idempotency_key, now_ms, request);
  return request;
}

Result<Request> RawFormat::build(const DeliveryInput& input) const {
  return build_raw_request(input.route, input.url, input.frame, input.idempotency_key,
                           input.now_ms);
}

ReplyVerdict RawFormat::judge(const config::Route&, std::string_view,
                              const Response& response) const {
  return ReplyVerdict::ok(response.body);
}

}  // namespace dsb::deliver
