#include "bridge/webhook_caller.hpp"

#include <cctype>

#include "deliver/format.hpp"
#include "deliver/retry_after.hpp"

namespace dsb::bridge {

namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// Ours replaces any the request carries already (a graph frame's own headers, a route's
// static ones): the webhook must be able to trust which app a request is for.
void name_the_app(deliver::Request& request, const std::string& app) {
  std::erase_if(request.headers, [](const auto& header) { return equals_ignoring_case(header.first, kAppHeader); });
  request.headers.emplace_back(std::string(kAppHeader), app);
}

}  // namespace

void WebhookCaller::call(std::shared_ptr<const config::Config> config, const config::App& app,
                         const config::Route& route,
                         const std::string& url, const stream::Frame& frame,
                         std::string_view idempotency_key, std::function<void(Answer)> done) {
  const deliver::WebhookFormat& format = deliver::format_for(route.format);
  Result<deliver::Request> request =
      format.build({route, url, frame, idempotency_key, clock_.now_ms(),
                    app.dingtalk.client_id, app.dingtalk.client_secret});
  if (!request) {
    const std::string& reason = request.status().message();
    Answer answer;
    answer.reason = reason;
    answer.malformed = format.malformed_label();
    answer.reply = format.failure_reply(400, reason).value_or("");
    done(std::move(answer));
    return;
  }
  name_the_app(request.value(), app.name);
  webhooks_.post(std::move(request.value()),
                 [&clock = clock_, config, &app, &route, &format,
                  done = std::move(done)](deliver::Response response) {
                   Answer answer;
                   answer.elapsed_ms = response.elapsed_ms;
                   answer.status = response.status;
                   if (!response.retry_after.empty()) {
                     answer.retry_after_ms =
                         deliver::parse_retry_after(response.retry_after, clock.now_ms());
                   }
                   if (!response.is_2xx() && !format.judges_every_answer()) {
                     // Non-2xx and failures below HTTP are failed deliveries by rule.
                     answer.reason = response.status != 0
                                         ? "webhook returned " + std::to_string(response.status)
                                         : "webhook failed: " + response.error;
                   } else {
                     deliver::ReplyVerdict verdict =
                         format.judge(route, app.dingtalk.client_id, response);
                     answer.delivered = verdict.delivered;
                     answer.reason = std::move(verdict.reason);
                     answer.reply = std::move(verdict.reply);
                   }
                   done(std::move(answer));
                 });
}

}  // namespace dsb::bridge
