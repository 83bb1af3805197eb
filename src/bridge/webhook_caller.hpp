// One webhook call as the bridge core sees it: the route's format builds the request, the
// Webhooks port sends it, and the format reads the answer (product.md section 5).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "bridge/ports.hpp"
#include "config/config.hpp"
#include "stream/frame.hpp"

namespace dsb::bridge {

// A webhook's answer, as the route's format reads it.
struct Answer {
  bool delivered = false;
  std::string reason;  // why not delivered, for logs and LATER / 500 messages
  // The callback response or robot reply to pass on; "" for none. A format may give one
  // with a failure too (graph: the 400/502/504 response), which the callback is ACKed with.
  std::string reply;
  int64_t elapsed_ms = 0;
  int status = 0;  // the webhook's HTTP status; 0 when it failed below HTTP or was not sent
  // The wait a Retry-After header asked for (ms from the answer), when it had a valid one.
  std::optional<int64_t> retry_after_ms;
  // When the frame's data was at fault (the format could not build a request from it and
  // says so): the format's dsb_frames_malformed_total reason, a static string. The relay
  // counts and logs it once per frame, however many URLs the route has (the spooler never
  // gets one: only graph has a reason, and graph routes are callbacks, never spooled).
  // "" otherwise.
  std::string_view malformed;
};

// The header naming the app a request comes from (product.md section 12).
inline constexpr std::string_view kAppHeader = "X-DingTalk-App";

class WebhookCaller {
 public:
  WebhookCaller(Webhooks& webhooks, WallClock& clock) : webhooks_(webhooks), clock_(clock) {}

  // Builds `route`'s request for `url` from `frame` (both only read during the call), sends
  // it and runs `done` with the answer. `config` owns `app` and `route` (one of the app's)
  // and is kept until `done`. Every request names the app in X-DingTalk-App.
  // A frame the format cannot express is a failed delivery, reported through `done` at once
  // (with the format's 400 reply, if it has one, and Answer::malformed set when the format
  // says the frame's data is at fault).
  void call(std::shared_ptr<const config::Config> config, const config::App& app,
            const config::Route& route,
            const std::string& url, const stream::Frame& frame, std::string_view idempotency_key,
            std::function<void(Answer)> done);

 private:
  Webhooks& webhooks_;
  WallClock& clock_;
};

}  // namespace dsb::bridge
