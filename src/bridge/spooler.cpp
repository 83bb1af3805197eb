#include "bridge/spooler.hpp"

#include "admin/metrics.hpp"
#include "bridge/dedup.hpp"
#include "bridge/robot_message.hpp"
#include "common/log.hpp"
#include "config/checks.hpp"
#include "config/units.hpp"
#include "store/retry_policy.hpp"

namespace dsb::bridge {
namespace {

constexpr std::chrono::milliseconds kPollInterval{500};

// The error kept with a failed attempt (spool list / show): the answer's reason, and what
// the retry policy made of it when that is not the plain backoff.
std::string failure_text(const Answer& answer, store::RetryVerdict verdict) {
  std::string text = answer.reason;
  if (verdict == store::RetryVerdict::permanent) {
    text += " (a 4xx answer is not retried; see retry.retry_4xx)";
  } else if (answer.retry_after_ms && store::RetryPolicy::honours_retry_after(answer.status)) {
    text += " (Retry-After " + config::format_duration(std::chrono::milliseconds(*answer.retry_after_ms)) + ")";
  }
  return text;
}

}  // namespace

Spooler::Spooler(std::shared_ptr<const config::Config> config, Spool& spool, Timers& timers,
                 WallClock& clock, RouteLanes& lanes, WebhookCaller& caller, RobotReplies& replies,
                 RouteMetrics& metrics)
    : config_(std::move(config)), spool_(spool), timers_(timers), clock_(clock), lanes_(lanes),
      caller_(caller), replies_(replies), metrics_(metrics) {}

Spooler::~Spooler() { timers_.cancel(poll_timer_); }

void Spooler::start() {
  running_ = true;
  pump();
  schedule_poll();
}

void Spooler::schedule_poll() {
  poll_timer_ = timers_.after(kPollInterval, [this] {
    poll_timer_ = 0;
    if (!running_) return;
    pump();
    schedule_poll();
  });
}

void Spooler::stop_taking() {
  running_ = false;
  timers_.cancel(poll_timer_);
  poll_timer_ = 0;
}

void Spooler::stop() {
  stop_taking();
  for (int64_t id : in_flight_) spool_.release(id);
  in_flight_.clear();
}

void Spooler::pump() {
  if (!running_ || asking_ || in_flight_.size() >= kMaxInFlight) return;
  if (const bool paused = !spool_.can_record_outcomes(); paused != paused_) {
    paused_ = paused;
    if (paused_) log::warn("bridge", "spooled delivery paused: the store cannot record outcomes");
    else log::info("bridge", "spooled delivery resumed: the store records outcomes again");
  }
  if (paused_) return;
  asking_ = true;
  spool_.due(clock_.now_ms(), kMaxInFlight - in_flight_.size(),
             [this](std::vector<store::DueDelivery> due) { on_due(std::move(due)); });
}

void Spooler::on_due(std::vector<store::DueDelivery> due) {
  asking_ = false;
  for (store::DueDelivery& item : due) {
    if (!running_) {
      spool_.release(item.id);
      continue;
    }
    // Spooled under its qualified name ("<app>/<route>" outside the app "default").
    const config::AppRoute target = config_->find_route(item.route);
    if (target.route == nullptr) {
      log::warn("bridge", "spooled delivery dead-lettered: its route is gone",
                {{"route", item.route}, {"delivery", std::to_string(item.id)}});
      spool_.dead_letter(item.id, {clock_.now_ms(), 0, "route removed from the config"});
      continue;
    }
    in_flight_.insert(item.id);
    deliver(std::make_shared<store::DueDelivery>(std::move(item)), *target.app, *target.route);
  }
  // More may wait behind a full batch: each finished delivery asks again (pump()).
}

void Spooler::deliver(std::shared_ptr<store::DueDelivery> delivery, const config::App& app,
                      const config::Route& route) {
  auto config = config_;  // keeps `app` and `route` alive while the delivery waits in its lane
  lanes_.run(delivery->route, route, [this, delivery, config, &app, &route] {
    if (in_flight_.count(delivery->id) == 0) {  // released by stop() while it waited
      lanes_.finish(delivery->route);
      return;
    }
    // The Idempotency-Key a webhook sees is the one direct delivery gives the same frame,
    // so a receiver can drop an at-least-once repeat.
    const stream::Frame& frame = delivery->frame;
    const RobotMessage robot =
        frame.topic() == kRobotTopic ? read_robot_message(frame.data) : RobotMessage{};
    const std::string key(idempotency_key(frame, {robot.robot_code, robot.msg_id}));
    caller_.call(config, app, route, delivery->url, frame, key,
                 [this, delivery, config, &app, &route](Answer answer) {
                   lanes_.finish(delivery->route);
                   if (in_flight_.erase(delivery->id) == 0) return;  // released meanwhile
                   on_answer(*delivery, app, route, answer);
                   pump();
                 });
  });
}

void Spooler::on_answer(const store::DueDelivery& delivery, const config::App& app,
                        const config::Route& route, const Answer& answer) {
  const int attempts = delivery.attempts + 1;
  const int64_t now = clock_.now_ms();
  metrics_.of(app.name, route.name).record(answer.delivered, answer.elapsed_ms);
  if (answer.delivered) {
    spool_.record_success(delivery.id, {now, answer.status, {}});
    if (log::enabled(log::Level::debug)) {
      log::debug("bridge", "spooled delivery done",
                 {{"route", delivery.route}, {"url", config::redact_url(delivery.url)},
                  {"attempts", std::to_string(attempts)}});
    }
    if (delivery.frame.topic() == kRobotTopic && is_robot_reply(answer.reply)) {
      replies_.send(read_robot_message(delivery.frame.data), route, app, answer.reply);
    }
    return;
  }
  const store::RetryDecision decision = store::RetryPolicy(route.retry).decide(
      {answer.status, answer.retry_after_ms}, attempts, now - delivery.queued_at_ms, now);
  std::string error = failure_text(answer, decision.verdict);
  if (decision.dead()) {
    log::error("bridge", "spooled delivery dead-lettered",
               {{"route", delivery.route}, {"url", config::redact_url(delivery.url)},
                {"attempts", std::to_string(attempts)}, {"reason", error},
                {"why", decision.verdict == store::RetryVerdict::permanent
                            ? "permanent failure"
                            : "retries exhausted"},
                {"delivery", std::to_string(delivery.id)}});
    spool_.dead_letter(delivery.id, {now, answer.status, std::move(error)});
    return;
  }
  log::warn("bridge", "spooled delivery failed; will retry",
            {{"route", delivery.route}, {"url", config::redact_url(delivery.url)},
             {"attempts", std::to_string(attempts)}, {"reason", error},
             {"retry_in_ms", std::to_string(decision.retry_at_ms - now)}});
  spool_.record_failure(delivery.id, {now, answer.status, std::move(error)}, decision.retry_at_ms);
}

}  // namespace dsb::bridge
