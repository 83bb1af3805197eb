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

// How often a redelivery that another replica is delivering asks the shared store again
// for that replica's outcome, until its ACK deadline (product.md section 12).
constexpr std::chrono::milliseconds kElsewherePoll{150};

metrics::Counter& counter(const std::string& name, const metrics::Labels& labels = {}) {
  return metrics::global().counter(name, labels);
}

bool is_json(std::string_view text) {
  rapidjson::Document doc;
  return json::parse(doc, text);
}

}  // namespace

struct Relay::Waiter {
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
  std::shared_ptr<const config::Config> config;  // keeps `route` alive across reloads
  const config::Route* route = nullptr;
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
  // The dedup store's claim: this replica delivers the frame (on a shared store the other
  // replicas wait meanwhile). Ended by a record, or released when there is none.
  bool claimed = false;
  bool remembered = false;
  // Another replica is delivering it: the store is asked again every kElsewherePoll.
  bool waiting_elsewhere = false;
  TimerId elsewhere_poll = 0;
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
             WallClock& clock, DedupStore& dedup, Spool& spool, deliver::Transport dingtalk)
    : config_(std::move(config)), timers_(timers), clock_(clock), dedup_(dedup), spool_(spool),
      lanes_(timers), caller_(webhooks, clock), replies_(webhooks, timers, clock, std::move(dingtalk)),
      spooler_(config_, spool, timers, clock, lanes_, caller_, replies_, route_metrics_) {
  route_metrics_.declare(config_->routes);
  // At zero from the first scrape, like the routes' series (only a shared store moves them).
  for (const char* outcome : {"delivered", "delivering", "deadline"}) {
    counter("dsb_dedup_waits_total", {{"outcome", outcome}});
  }
}

Relay::~Relay() {
  for (auto& [key, delivery] : deliveries_) {
    for (Waiter& waiter : delivery->waiters) timers_.cancel(waiter.deadline);
    if (delivery->elsewhere_poll != 0) timers_.cancel(delivery->elsewhere_poll);
  }
}

void Relay::reload(std::shared_ptr<const config::Config> config) {
  config_ = std::move(config);
  route_metrics_.declare(config_->routes);
  spooler_.reload(config_);
}

void Relay::stop_taking_frames() {
  taking_frames_ = false;
  spooler_.stop_taking();
}

void Relay::send_ack(ConnectionId conn, const Ack& ack) {
  if (acks_ != nullptr) acks_->send_ack(conn, ack);
}

void Relay::on_frame(ConnectionId conn, Frame frame, stream::AckWriter& acks) {
  acks_ = &acks;  // frames are counted by the stream, which sees them all
  if (!taking_frames_) {
    log::info("bridge", "frame left un-ACKed: shutting down",
              {{"message_id", std::string(frame.message_id())}});
    return;
  }
  if (frame.type == stream::FrameType::system) return;  // the stream answers those itself
  handle(conn, std::move(frame));
}

void Relay::handle(ConnectionId conn, Frame frame) {
  const Kind kind = frame.type == stream::FrameType::event ? Kind::event
                    : frame.topic() == kRobotTopic         ? Kind::robot
                                                           : Kind::callback;
  const std::string message_id(frame.message_id());
  FrameData data(frame.data);  // only read by `match` and `order_by`, and then parsed once
  const Router router(config_->routes);
  const config::Route* route = router.match(frame, data);
  if (route == nullptr) {
    counter("dsb_unrouted_total", {{"type", std::string(stream::frame_type_name(frame.type))}}).inc();
    if (kind == Kind::event) {
      log::debug("bridge", "unrouted event ACKed",
                 {{"event_type", std::string(frame.header("eventType"))}, {"message_id", message_id}});
      send_ack(conn, stream::ack_event(message_id, true, "unrouted"));
    } else {
      // Still 404 (product.md section 4); the log tells a missing route from routes whose
      // `match` turned the frame away, which is what the operator has to fix.
      log::warn("bridge",
                router.has_callback_topic(frame.topic()) ? "no route's match took the callback"
                                                         : "no route for callback topic",
                {{"topic", std::string(frame.topic())}, {"message_id", message_id}});
      send_ack(conn, stream::ack_error(message_id, 404, "no route for topic"));
    }
    return;
  }
  // A callback's reply is its ACK, so it cannot wait in a spool.
  const bool spooled = route->delivery == config::Delivery::spool && kind != Kind::callback;
  // DingTalk ignores a robot ACK's data and redelivers slow ones: ACK first, deliver after
  // (unless the route journals it first).
  const bool acked_on_arrival = kind == Kind::robot && !spooled;
  if (acked_on_arrival) send_ack(conn, stream::ack_callback(message_id, "null"));

  RobotMessage robot = kind == Kind::robot ? read_robot_message(frame.data) : RobotMessage{};
  const std::string key = dedup_key(frame, RobotMessageKey{robot.robot_code, robot.msg_id});
  if (auto running = deliveries_.find(key); running != deliveries_.end()) {
    route_metrics_.of(route->name).duplicates.inc();
    log::info("bridge", "redelivery joins the delivery under way",
              {{"route", route->name}, {"key", key}, {"message_id", message_id}});
    if (!acked_on_arrival) add_waiter(running->second, conn, message_id);
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
  delivery->route = route;
  if (route->order_by) delivery->order_value = data.field(*route->order_by);
  delivery->frame = std::move(frame);  // `data` points into it: not read after this
  delivery->robot = std::move(robot);
  deliveries_[key] = delivery;
  if (!acked_on_arrival) add_waiter(delivery, conn, message_id);
  ask_dedup(delivery);
}

void Relay::ask_dedup(const std::shared_ptr<Delivery>& delivery) {
  // A shared store's claim must outlast the delivery it allows, or a redelivery on another
  // replica would POST the frame a second time while this one still runs. The backend
  // renews the claims it holds (RedisStore: every lease/3) until remember() or release(),
  // so a live replica keeps its claim however long the delivery waits for its lane, rate
  // token or order_by turn; finish() ends every claim. The lease asked for is
  // max(store.lease, this) (SharedDedupStore): at least one whole delivery, so a renewal
  // delayed by a slow store does not hand the frame to another replica mid-POST, and no
  // longer than need be: it is how long the others wait when this replica dies.
  const int64_t claim_ms =
      (delivery->route->timeout + delivery->config->limits.ack_deadline).count();
  dedup_.find(delivery->key, clock_.now_ms(), claim_ms, [this, delivery](DedupAnswer answer) {
    on_dedup_answer(delivery, std::move(answer));
  });
}

void Relay::on_dedup_answer(const std::shared_ptr<Delivery>& delivery, DedupAnswer answer) {
  using State = DedupAnswer::State;
  if (delivery->abandoned) {  // shutdown ACKed its waiters meanwhile
    if (answer.state == State::fresh) dedup_.release(delivery->key);
    return;
  }
  if (answer.state == State::elsewhere) {
    wait_elsewhere(delivery);
    return;
  }
  if (delivery->waiting_elsewhere) {
    delivery->waiting_elsewhere = false;
    const bool replayed = answer.state == State::delivered && answer.earlier.complete;
    count_elsewhere_wait(replayed ? "delivered" : "delivering");
  }
  if (answer.state == State::delivered && answer.earlier.complete) {
    route_metrics_.of(delivery->route->name).duplicates.inc();
    log::info("bridge", "duplicate not delivered again",
              {{"route", delivery->route->name}, {"key", delivery->key},
               {"message_id", std::string(delivery->frame.message_id())}});
    delivery->replayed = std::move(answer.earlier);
    ack_waiters(*delivery);
    finish(delivery);
    return;
  }
  delivery->claimed = answer.state == State::fresh;
  // Only some URLs took it before (the ACK was LATER): the others get it now.
  if (answer.state == State::delivered) {
    delivery->delivered_urls = std::move(answer.earlier.delivered_urls);
  }
  if (delivery->spooled) {
    journal(delivery);
  } else {
    start_in_order(delivery);
  }
}

void Relay::wait_elsewhere(const std::shared_ptr<Delivery>& delivery) {
  const std::string message_id(delivery->frame.message_id());
  if (delivery->waiters.empty()) {
    // A robot message, ACKed on arrival: no ACK to wait for, and the other replica's
    // delivery is the one that counts.
    route_metrics_.of(delivery->route->name).duplicates.inc();
    log::debug("bridge", "robot message another replica is delivering not delivered here",
               {{"route", delivery->route->name}, {"key", delivery->key},
                {"message_id", message_id}});
    finish(delivery);
    return;
  }
  const bool acks_owed = std::any_of(delivery->waiters.begin(), delivery->waiters.end(),
                                     [](const Waiter& waiter) { return !waiter.acked; });
  if (!acks_owed) {
    // Every arrival was ACKed at its deadline (LATER, or the callback's failure): DingTalk
    // redelivers, and by then the other replica's record is there.
    delivery->waiting_elsewhere = false;
    count_elsewhere_wait("deadline");
    finish(delivery);
    return;
  }
  if (!delivery->waiting_elsewhere) {
    delivery->waiting_elsewhere = true;
    log::info("bridge", "redelivery waits for another replica delivering it",
              {{"route", delivery->route->name}, {"key", delivery->key},
               {"message_id", message_id}});
  }
  std::weak_ptr<Delivery> weak = delivery;
  delivery->elsewhere_poll = timers_.after(kElsewherePoll, [this, weak] {
    auto d = weak.lock();
    if (!d || d->abandoned) return;
    d->elsewhere_poll = 0;
    const bool acks_owed = std::any_of(d->waiters.begin(), d->waiters.end(),
                                       [](const Waiter& waiter) { return !waiter.acked; });
    if (acks_owed) {
      ask_dedup(d);
    } else {
      wait_elsewhere(d);  // ends the wait
    }
  });
}

void Relay::count_elsewhere_wait(const char* outcome) {
  counter("dsb_dedup_waits_total", {{"outcome", outcome}}).inc();
}

void Relay::start_in_order(const std::shared_ptr<Delivery>& delivery) {
  const config::Route& route = *delivery->route;
  if (!delivery->order_value) {
    start_delivery(delivery);
    return;
  }
  // The path is part of the key: a reload that changes a route's order_by starts fresh keys.
  delivery->order_key =
      route.name + '\x1f' + route.order_by->text + '\x1f' + *delivery->order_value;
  ordered_.run(*delivery->order_key, [this, delivery] {
    if (delivery->abandoned) {  // cannot happen after clear(); kept so a start never leaks
      finish(delivery);
      return;
    }
    start_delivery(delivery);
  });
}

void Relay::journal(const std::shared_ptr<Delivery>& delivery) {
  store::SpoolEntry entry{delivery->route->name, delivery->key, delivery->frame,
                          delivery->route->urls, clock_.now_ms()};
  // The store keeps the order per (route, URL, value) across retries and restarts.
  entry.order_key = delivery->order_value;
  spool_.append(std::move(entry),
                [this, delivery](Status status) { on_journaled(delivery, status); });
}

void Relay::on_journaled(const std::shared_ptr<Delivery>& delivery, const Status& status) {
  if (status.is_ok()) {
    // A redelivery is ACKed SUCCESS too, and not journaled twice (on a shared store: by
    // no replica; the record replaces the claim taken before journaling).
    remember(*delivery, DeliveredOutcome{});
    spooler_.pump();
  } else {
    delivery->all_ok = false;
    delivery->failure = "spool unavailable: " + status.message();
    log::error("bridge", "frame not journaled; ACKing so DingTalk redelivers it",
               {{"route", delivery->route->name}, {"reason", status.message()},
                {"message_id", std::string(delivery->frame.message_id())}});
  }
  ack_waiters(*delivery);
  finish(delivery);
}

void Relay::add_waiter(const std::shared_ptr<Delivery>& delivery, ConnectionId conn,
                       std::string message_id) {
  const size_t index = delivery->waiters.size();
  delivery->waiters.push_back(Waiter{conn, std::move(message_id)});
  const bool is_callback = delivery->kind == Kind::callback;
  const std::chrono::milliseconds wait =
      is_callback ? delivery->route->timeout : delivery->config->limits.ack_deadline;
  std::weak_ptr<Delivery> weak = delivery;
  delivery->waiters[index].deadline = timers_.after(wait, [this, weak, index, wait] {
    auto d = weak.lock();
    if (!d || d->waiters[index].acked) return;
    Waiter& waiter = d->waiters[index];
    waiter.deadline = 0;
    const char* what = d->waiting_elsewhere ? "another replica still delivering it after "
                       : d->spooled         ? "spool still writing after "
                                            : "webhook still working after ";
    const std::string why = what + std::to_string(wait.count()) + " ms";
    log::warn("bridge", "ACK deadline reached", {{"route", d->route->name},
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
    lanes_.run(route, [this, delivery, index] {
      const config::Route& r = *delivery->route;
      caller_.call(delivery->config, r, r.urls[index], delivery->frame, delivery->idempotency_key,
                   [this, delivery, index](Answer answer) {
                     lanes_.finish(delivery->route->name);
                     on_answer(delivery, index, std::move(answer));
                   });
    });
  }
}

void Relay::on_answer(const std::shared_ptr<Delivery>& delivery, size_t url_index, Answer answer) {
  const config::Route& route = *delivery->route;
  const std::string& url = route.urls[url_index];
  const bool ok = answer.delivered;
  route_metrics_.of(route.name).record(ok, answer.elapsed_ms);
  if (ok) {
    if (log::enabled(log::Level::debug)) {  // the fields cost more than the rest of this
      log::debug("bridge", "delivered",
                 {{"route", route.name}, {"url", config::redact_url(url)},
                  {"ms", std::to_string(answer.elapsed_ms)}});
    }
    if (delivery->kind == Kind::event) delivery->delivered_urls.push_back(url);
  } else {
    if (!answer.malformed.empty() && !delivery->malformed_counted) {
      // The frame's data is at fault, not the webhook: counted and logged like a frame the
      // stream could not parse, once per frame however many URLs the route has.
      delivery->malformed_counted = true;
      log::warn("bridge", "malformed frame",
                {{"route", route.name}, {"reason", answer.reason},
                 {"message_id", std::string(delivery->frame.message_id())}});
      counter("dsb_frames_malformed_total", {{"reason", std::string(answer.malformed)}}).inc();
    }
    log::warn("bridge", "delivery failed",
              {{"route", route.name}, {"url", config::redact_url(url)}, {"reason", answer.reason},
               {"message_id", std::string(delivery->frame.message_id())}});
    if (delivery->all_ok) delivery->failure = answer.reason;
    delivery->all_ok = false;
  }

  if (delivery->kind == Kind::robot && ok && is_robot_reply(answer.reply)) {
    replies_.send(delivery->robot, route, *delivery->config, answer.reply);
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
    remember(*delivery, DeliveredOutcome{});
  } else if (delivery->kind == Kind::event && !delivery->delivered_urls.empty()) {
    // The ACK says LATER; the redelivery goes only to the URLs that failed.
    DeliveredOutcome partial;
    partial.complete = false;
    partial.delivered_urls = delivery->delivered_urls;
    remember(*delivery, std::move(partial));
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
    remember(delivery, std::move(replied));
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
  send_ack(waiter.conn, ack);
}

void Relay::remember(Delivery& delivery, DeliveredOutcome outcome) {
  delivery.remembered = true;
  dedup_.remember(delivery.key, std::move(outcome), clock_.now_ms());
}

void Relay::finish(const std::shared_ptr<Delivery>& delivery) {
  for (Waiter& waiter : delivery->waiters) {
    if (waiter.deadline != 0) timers_.cancel(waiter.deadline);
    waiter.deadline = 0;
  }
  if (delivery->elsewhere_poll != 0) timers_.cancel(delivery->elsewhere_poll);
  delivery->elsewhere_poll = 0;
  // Failed without a record (nothing journaled, no URL took it, no reply kept): the next
  // arrival, on whichever replica, delivers it again instead of waiting for the lease.
  if (delivery->claimed && !delivery->remembered) dedup_.release(delivery->key);
  delivery->claimed = false;
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
    if (delivery->elsewhere_poll != 0) timers_.cancel(delivery->elsewhere_poll);
    delivery->elsewhere_poll = 0;
    // No ACK is owed, so none tells DingTalk to redeliver: a robot message ACKed on
    // arrival and still running or queued behind its order_by key is lost here.
    if (delivery->waiters.empty()) {
      ++dropped;
      route_metrics_.of(delivery->route->name).abandoned.inc();
      log::debug("bridge", "robot message dropped at shutdown",
                 {{"route", delivery->route->name}, {"key", key}});
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
