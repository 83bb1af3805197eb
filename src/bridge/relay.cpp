#include "bridge/relay.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <optional>

#include "bridge/frame_data.hpp"
#include "bridge/robot_message.hpp"
#include "bridge/router.hpp"
#include "common/json.hpp"
#include "common/log.hpp"
#include "config/checks.hpp"
#include "deliver/format.hpp"

namespace dsb::bridge {

using stream::Ack;
using stream::ConnectionId;
using stream::Frame;

namespace {

enum class Kind { event, robot, callback };

metrics::Counter& counter(const std::string& name, const metrics::Labels& labels = {}) {
  return metrics::global().counter(name, labels);
}

bool is_json(std::string_view text) {
  rapidjson::Document doc;
  return json::parse(doc, text);
}

}  // namespace

struct Relay::Waiter {
  stream::AckWriter* acks = nullptr;  // the StreamClient of the connection (FrameSink contract)
  ConnectionId conn = 0;
  std::string message_id;
  TimerId deadline = 0;
  bool acked = false;
};

struct Relay::Delivery {
  Kind kind = Kind::event;
  bool spooled = false;  // journaled for the Spooler instead of POSTed here
  std::string key;       // dedup key
  std::string idempotency_key;
  std::shared_ptr<const config::Config> config;  // keeps `app` and `route` alive across reloads
  const config::App* app = nullptr;
  const config::Route* route = nullptr;
  std::string route_name;  // qualified_route_name: in the spool, metrics and logs
  Frame frame;
  RobotMessage robot;  // robot messages only

  size_t outstanding = 0;  // POSTs not answered yet
  bool all_ok = true;
  std::string failure;  // the first failure, for the LATER / 500 message
  std::optional<Answer> first_answer;  // callbacks: the first URL's answer decides the ACK
  std::vector<Waiter> waiters;  // ACKs owed, one per arrival of the frame
  // URLs that took the frame: before (from the dedup store) and in this delivery.
  std::vector<std::string> delivered_urls;
  std::optional<DeliveredOutcome> replayed;  // a duplicate: ACKed as the first time
  bool reply_remembered = false;  // callbacks: remembered once, however many waiters
  bool malformed_counted = false;  // the frame's data was at fault: counted once, not per URL
  bool abandoned = false;         // shutdown ACKed its waiters
  // The value of the route's order_by field in the frame; none when the route has no
  // order_by or the frame lacks the field (then it is not ordered).
  std::optional<std::string> order_value;
  // Its OrderedQueues key while it waits for its turn or runs (direct, order_by routes).
  std::optional<std::string> order_key;

  bool has_taken(const std::string& url) const {
    return std::find(delivered_urls.begin(), delivered_urls.end(), url) != delivered_urls.end();
  }
};

Relay::Relay(std::shared_ptr<const config::Config> config, Timers& timers, Webhooks& webhooks,
             WallClock& clock, DedupStore& dedup, Spool& spool, RobotReplies::TransportFor dingtalk)
    : config_(std::move(config)), timers_(timers), clock_(clock), dedup_(dedup), spool_(spool),
      lanes_(timers), caller_(webhooks, clock), replies_(webhooks, timers, clock, std::move(dingtalk)),
      spooler_(config_, spool, timers, clock, lanes_, caller_, replies_, route_metrics_) {
  declare_route_metrics();
}

Relay::~Relay() {
  for (auto& [key, delivery] : deliveries_) {
    for (Waiter& waiter : delivery->waiters) timers_.cancel(waiter.deadline);
  }
}

void Relay::reload(std::shared_ptr<const config::Config> config) {
  config_ = std::move(config);
  declare_route_metrics();
  spooler_.reload(config_);
}

void Relay::stop_taking_frames() {
  taking_frames_ = false;
  spooler_.stop_taking();
}

size_t Relay::in_flight(const std::string& app) const {
  size_t count = 0;
  for (const auto& [key, delivery] : deliveries_) count += delivery->app->name == app ? 1 : 0;
  return count;
}

void Relay::declare_route_metrics() { route_metrics_.declare(*config_); }

std::string dedup_key_in_app(const config::App& app, std::string frame_key) {
  if (app.is_default()) return frame_key;
  return "app:" + app.name + "/" + frame_key;
}

void Relay::on_frame(ConnectionId conn, Frame frame, stream::AckWriter& acks) {
  const std::string app = config_->apps.empty() ? std::string(config::App::kDefaultAppName)
                                                : config_->apps.front().name;
  on_frame(app, conn, std::move(frame), acks);
}

void Relay::on_frame(const std::string& app_name, ConnectionId conn, Frame frame,
                     stream::AckWriter& acks) {
  // frames are counted by the stream, which sees them all
  if (!taking_frames_) {
    log::info("bridge", "frame left un-ACKed: shutting down",
              {{"app", app_name}, {"message_id", std::string(frame.message_id())}});
    return;
  }
  if (frame.type == stream::FrameType::system) return;  // the stream answers those itself
  const config::App* app = config_->find_app(app_name);
  if (app == nullptr) {
    log::info("bridge", "frame left un-ACKed: its app was removed by a reload",
              {{"app", app_name}, {"message_id", std::string(frame.message_id())}});
    return;
  }
  handle(*app, conn, std::move(frame), acks);
}

void Relay::handle(const config::App& app, ConnectionId conn, Frame frame, stream::AckWriter& acks) {
  const Kind kind = frame.type == stream::FrameType::event ? Kind::event
                    : frame.topic() == kRobotTopic         ? Kind::robot
                                                           : Kind::callback;
  const std::string message_id(frame.message_id());
  FrameData data(frame.data);  // only read by `match` and `order_by`, and then parsed once
  const Router router(app.routes);
  const config::Route* route = router.match(frame, data);
  if (route == nullptr) {
    counter("dsb_unrouted_total", {{"app", app.name}, {"type", std::string(stream::frame_type_name(frame.type))}}).inc();
    if (kind == Kind::event) {
      log::debug("bridge", "unrouted event ACKed",
                 {{"event_type", std::string(frame.header("eventType"))}, {"message_id", message_id}});
      acks.send_ack(conn, stream::ack_event(message_id, true, "unrouted"));
    } else {
      // Still 404 (product.md section 4); the log tells a missing route from routes whose
      // `match` turned the frame away, which is what the operator has to fix.
      log::warn("bridge",
                router.has_callback_topic(frame.topic()) ? "no route's match took the callback"
                                                         : "no route for callback topic",
                {{"topic", std::string(frame.topic())}, {"message_id", message_id}});
      acks.send_ack(conn, stream::ack_error(message_id, 404, "no route for topic"));
    }
    return;
  }
  // A callback's reply is its ACK, so it cannot wait in a spool.
  const bool spooled = route->delivery == config::Delivery::spool && kind != Kind::callback;
  // DingTalk ignores a robot ACK's data and redelivers slow ones: ACK first, deliver after
  // (unless the route journals it first).
  const bool acked_on_arrival = kind == Kind::robot && !spooled;
  if (acked_on_arrival) acks.send_ack(conn, stream::ack_callback(message_id, "null"));

  RobotMessage robot = kind == Kind::robot ? read_robot_message(frame.data) : RobotMessage{};
  const std::string key =
      dedup_key_in_app(app, dedup_key(frame, RobotMessageKey{robot.robot_code, robot.msg_id}));
  const std::string route_name = config::qualified_route_name(app, *route);
  if (auto running = deliveries_.find(key); running != deliveries_.end()) {
    route_metrics_.of(app.name, route->name).duplicates.inc();
    log::info("bridge", "redelivery joins the delivery under way",
              {{"app", app.name}, {"route", route->name}, {"key", key}, {"message_id", message_id}});
    if (!acked_on_arrival) add_waiter(running->second, acks, conn, message_id);
    return;
  }

  // Registered before the dedup question, which may be answered later: a redelivery
  // arriving meanwhile joins this one instead of asking again.
  auto delivery = std::make_shared<Delivery>();
  delivery->kind = kind;
  delivery->spooled = spooled;
  delivery->key = key;
  delivery->idempotency_key = std::string(idempotency_key(frame, {robot.robot_code, robot.msg_id}));
  delivery->config = config_;
  delivery->app = &app;
  delivery->route = route;
  delivery->route_name = route_name;
  if (route->order_by) delivery->order_value = data.field(*route->order_by);
  delivery->frame = std::move(frame);  // `data` points into it: not read after this
  delivery->robot = std::move(robot);
  deliveries_[key] = delivery;
  if (!acked_on_arrival) add_waiter(delivery, acks, conn, message_id);
  dedup_.find(key, clock_.now_ms(), [this, delivery](std::optional<DeliveredOutcome> earlier) {
    on_dedup_answer(delivery, std::move(earlier));
  });
}

void Relay::on_dedup_answer(const std::shared_ptr<Delivery>& delivery,
                            std::optional<DeliveredOutcome> earlier) {
  if (delivery->abandoned) return;  // shutdown ACKed its waiters meanwhile
  if (earlier && earlier->complete) {
    route_metrics_.of(delivery->app->name, delivery->route->name).duplicates.inc();
    log::info("bridge", "duplicate not delivered again",
              {{"app", delivery->app->name}, {"route", delivery->route->name}, {"key", delivery->key},
               {"message_id", std::string(delivery->frame.message_id())}});
    delivery->replayed = std::move(*earlier);
    ack_waiters(*delivery);
    finish(delivery);
    return;
  }
  // Only some URLs took it before (the ACK was LATER): the others get it now.
  if (earlier) delivery->delivered_urls = std::move(earlier->delivered_urls);
  if (delivery->spooled) {
    journal(delivery);
  } else {
    start_in_order(delivery);
  }
}

void Relay::start_in_order(const std::shared_ptr<Delivery>& delivery) {
  const config::Route& route = *delivery->route;
  if (!delivery->order_value) {
    start_delivery(delivery);
    return;
  }
  // The path is part of the key: a reload that changes a route's order_by starts fresh keys.
  delivery->order_key =
      delivery->route_name + '\x1f' + route.order_by->text + '\x1f' + *delivery->order_value;
  ordered_.run(*delivery->order_key, [this, delivery] {
    if (delivery->abandoned) {  // cannot happen after clear(); kept so a start never leaks
      finish(delivery);
      return;
    }
    start_delivery(delivery);
  });
}

void Relay::journal(const std::shared_ptr<Delivery>& delivery) {
  store::SpoolEntry entry{delivery->route_name, delivery->key, delivery->frame,
                          delivery->route->urls, clock_.now_ms()};
  // The store keeps the order per (route, URL, value) across retries and restarts.
  entry.order_key = delivery->order_value;
  spool_.append(std::move(entry),
                [this, delivery](Status status) { on_journaled(delivery, status); });
}

void Relay::on_journaled(const std::shared_ptr<Delivery>& delivery, const Status& status) {
  if (status.is_ok()) {
    // A redelivery is ACKed SUCCESS too, and not journaled twice.
    dedup_.remember(delivery->key, DeliveredOutcome{}, clock_.now_ms());
    spooler_.pump();
  } else {
    delivery->all_ok = false;
    delivery->failure = "spool unavailable: " + status.message();
    log::error("bridge", "frame not journaled; ACKing so DingTalk redelivers it",
               {{"app", delivery->app->name}, {"route", delivery->route->name}, {"reason", status.message()},
                {"message_id", std::string(delivery->frame.message_id())}});
  }
  ack_waiters(*delivery);
  finish(delivery);
}

void Relay::add_waiter(const std::shared_ptr<Delivery>& delivery, stream::AckWriter& acks,
                       ConnectionId conn, std::string message_id) {
  const size_t index = delivery->waiters.size();
  delivery->waiters.push_back(Waiter{&acks, conn, std::move(message_id)});
  const bool is_callback = delivery->kind == Kind::callback;
  const std::chrono::milliseconds wait =
      is_callback ? delivery->route->timeout : delivery->config->limits.ack_deadline;
  std::weak_ptr<Delivery> weak = delivery;
  delivery->waiters[index].deadline = timers_.after(wait, [this, weak, index, wait] {
    auto d = weak.lock();
    if (!d || d->waiters[index].acked) return;
    Waiter& waiter = d->waiters[index];
    waiter.deadline = 0;
    const std::string why = (d->spooled ? "spool still writing after " : "webhook still working after ") +
                            std::to_string(wait.count()) + " ms";
    log::warn("bridge", "ACK deadline reached", {{"app", d->app->name}, {"route", d->route->name},
                                                 {"message_id", waiter.message_id}, {"reason", why}});
    ack_waiter(waiter, d->kind == Kind::event ? stream::ack_event(waiter.message_id, false, why)
                                              : failure_ack(*d, waiter.message_id, 504, why));
  });
}

void Relay::start_delivery(std::shared_ptr<Delivery> delivery) {
  const config::Route& route = *delivery->route;
  // A URL that already took this frame (before a LATER) is not sent it again.
  std::vector<size_t> targets;
  for (size_t i = 0; i < route.urls.size(); ++i) {
    if (!delivery->has_taken(route.urls[i])) targets.push_back(i);
  }
  // Counted before any POST starts: a Webhooks that answers synchronously must not see
  // the count reach zero early.
  delivery->outstanding = targets.size();
  if (targets.empty()) {
    on_all_answers(delivery);
    return;
  }
  for (size_t index : targets) {
    lanes_.run(delivery->route_name, route, [this, delivery, index] {
      const config::Route& r = *delivery->route;
      caller_.call(delivery->config, *delivery->app, r, r.urls[index], delivery->frame, delivery->idempotency_key,
                   [this, delivery, index](Answer answer) {
                     lanes_.finish(delivery->route_name);
                     on_answer(delivery, index, std::move(answer));
                   });
    });
  }
}

void Relay::on_answer(const std::shared_ptr<Delivery>& delivery, size_t url_index, Answer answer) {
  const config::Route& route = *delivery->route;
  const std::string& url = route.urls[url_index];
  const bool ok = answer.delivered;
  route_metrics_.of(delivery->app->name, delivery->route->name).record(ok, answer.elapsed_ms);
  if (ok) {
    if (log::enabled(log::Level::debug)) {  // the fields cost more than the rest of this
      log::debug("bridge", "delivered",
                 {{"app", delivery->app->name}, {"route", route.name}, {"url", config::redact_url(url)},
                  {"ms", std::to_string(answer.elapsed_ms)}});
    }
    if (delivery->kind == Kind::event) delivery->delivered_urls.push_back(url);
  } else {
    if (!answer.malformed.empty() && !delivery->malformed_counted) {
      // The frame's data is at fault, not the webhook: counted and logged like a frame the
      // stream could not parse, once per frame however many URLs the route has.
      delivery->malformed_counted = true;
      log::warn("bridge", "malformed frame",
                {{"app", delivery->app->name}, {"route", route.name}, {"reason", answer.reason},
                 {"message_id", std::string(delivery->frame.message_id())}});
      counter("dsb_frames_malformed_total",
              {{"app", delivery->app->name}, {"reason", std::string(answer.malformed)}})
          .inc();
    }
    log::warn("bridge", "delivery failed",
              {{"app", delivery->app->name}, {"route", route.name}, {"url", config::redact_url(url)}, {"reason", answer.reason},
               {"message_id", std::string(delivery->frame.message_id())}});
    if (delivery->all_ok) delivery->failure = answer.reason;
    delivery->all_ok = false;
  }

  if (delivery->kind == Kind::robot && ok && is_robot_reply(answer.reply)) {
    replies_.send(delivery->robot, route, *delivery->app, answer.reply);
  }
  if (delivery->kind == Kind::callback && url_index == 0) {
    // The first URL's reply is the callback's answer; the others only get copies.
    delivery->first_answer = std::move(answer);
    ack_waiters(*delivery);
  }
  if (--delivery->outstanding == 0) on_all_answers(delivery);
}

void Relay::on_all_answers(const std::shared_ptr<Delivery>& delivery) {
  if (delivery->kind != Kind::callback && delivery->all_ok) {
    // Remembered even when the ACK went out LATER at the deadline: the redelivery is then
    // ACKed SUCCESS without a second POST.
    dedup_.remember(delivery->key, DeliveredOutcome{}, clock_.now_ms());
  } else if (delivery->kind == Kind::event && !delivery->delivered_urls.empty()) {
    // The ACK says LATER; the redelivery goes only to the URLs that failed.
    DeliveredOutcome partial;
    partial.complete = false;
    partial.delivered_urls = delivery->delivered_urls;
    dedup_.remember(delivery->key, std::move(partial), clock_.now_ms());
  }
  ack_waiters(*delivery);
  finish(delivery);
}

void Relay::ack_waiters(Delivery& delivery) {
  for (Waiter& waiter : delivery.waiters) {
    if (waiter.acked) continue;
    ack_waiter(waiter, delivery.replayed ? replayed_ack(delivery, waiter.message_id)
                                         : outcome_ack(delivery, waiter.message_id));
  }
}

Ack Relay::replayed_ack(const Delivery& delivery, const std::string& message_id) const {
  switch (delivery.kind) {
    case Kind::event: return stream::ack_event(message_id, true);
    case Kind::robot: return stream::ack_callback(message_id, "null");
    case Kind::callback: break;
  }
  const std::string& reply = delivery.replayed->reply;
  return stream::ack_callback(message_id, reply.empty() ? "null" : reply);
}

Ack Relay::outcome_ack(Delivery& delivery, const std::string& message_id) {
  switch (delivery.kind) {
    case Kind::event:
      return delivery.all_ok ? stream::ack_event(message_id, true)
                             : stream::ack_event(message_id, false, delivery.failure);
    case Kind::robot:  // only a journaled robot message waits for its ACK
      return delivery.all_ok ? stream::ack_callback(message_id, "null")
                             : stream::ack_error(message_id, 500, delivery.failure);
    case Kind::callback: break;
  }
  const Answer& answer = *delivery.first_answer;
  Ack ack;
  if (!answer.delivered && answer.reply.empty()) {
    ack = stream::ack_error(message_id, 500, answer.reason);
  } else if (answer.reply.empty()) {
    ack = stream::ack_callback(message_id, "null");
  } else if (!is_json(answer.reply)) {
    ack = stream::ack_error(message_id, 500, "webhook reply is not JSON");
  } else {
    ack = stream::ack_callback(message_id, answer.reply);
  }
  // A failure's reply (graph's 502) is passed on but not remembered: a redelivery tries again.
  if (ack.code == 200 && answer.delivered && !delivery.reply_remembered) {
    delivery.reply_remembered = true;
    DeliveredOutcome replied;
    replied.reply = answer.reply;
    dedup_.remember(delivery.key, std::move(replied), clock_.now_ms());
  }
  return ack;
}

Ack Relay::failure_ack(const Delivery& delivery, const std::string& message_id, int status,
                       const std::string& reason) const {
  // The route's format may answer HTTP-shaped (graph); the others ACK 500.
  std::optional<std::string> reply =
      deliver::format_for(delivery.route->format).failure_reply(status, reason);
  return reply ? stream::ack_callback(message_id, *reply) : stream::ack_error(message_id, 500, reason);
}

void Relay::ack_waiter(Waiter& waiter, const Ack& ack) {
  if (waiter.deadline != 0) timers_.cancel(waiter.deadline);
  waiter.deadline = 0;
  waiter.acked = true;
  waiter.acks->send_ack(waiter.conn, ack);
}

void Relay::finish(const std::shared_ptr<Delivery>& delivery) {
  for (Waiter& waiter : delivery->waiters) {
    if (waiter.deadline != 0) timers_.cancel(waiter.deadline);
    waiter.deadline = 0;
  }
  auto it = deliveries_.find(delivery->key);
  if (it != deliveries_.end() && it->second == delivery) deliveries_.erase(it);
  if (delivery->order_key) {  // its key's next delivery may start now
    const std::string key = std::move(*delivery->order_key);
    delivery->order_key.reset();
    ordered_.finish(key);
  }
}

void Relay::abandon_in_flight() {
  spooler_.stop();
  ordered_.clear();  // waiting starts never run; their deliveries are ACKed below
  auto deliveries = std::move(deliveries_);
  deliveries_.clear();
  size_t dropped = 0;
  for (auto& [key, delivery] : deliveries) {
    delivery->abandoned = true;
    // No ACK is owed, so none tells DingTalk to redeliver: a robot message ACKed on
    // arrival and still running or queued behind its order_by key is lost here.
    if (delivery->waiters.empty()) {
      ++dropped;
      route_metrics_.of(delivery->app->name, delivery->route->name).abandoned.inc();
      log::debug("bridge", "robot message dropped at shutdown",
                 {{"app", delivery->app->name}, {"route", delivery->route->name}, {"key", key}});
    }
    for (Waiter& waiter : delivery->waiters) {
      if (waiter.acked) continue;
      ack_waiter(waiter, delivery->kind == Kind::event
                             ? stream::ack_event(waiter.message_id, false, "bridge shutting down")
                             : failure_ack(*delivery, waiter.message_id, 503, "bridge shutting down"));
    }
  }
  if (dropped != 0)
    log::warn("bridge",
              "shutdown grace over: robot messages ACKed on arrival dropped before their webhook "
              "answered",
              {{"count", std::to_string(dropped)}});
}

}  // namespace dsb::bridge
