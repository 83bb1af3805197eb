// The bridge core with no socket: frames in, webhook requests and ACKs out, time and HTTP
// completions driven by the test.
#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <algorithm>
#include <map>
#include <string_view>

#include "bridge/relay.hpp"
#include "common/log.hpp"
#include "support/fake_ports.hpp"

using namespace dsb;
using namespace dsb::bridge;
using stream::Ack;
using stream::Frame;
using stream::FrameType;

namespace {

class FakeTimers : public Timers {
 public:
  TimerId after(std::chrono::milliseconds delay, std::function<void()> fire) override {
    TimerId id = next_++;
    pending_[id] = {delay.count(), std::move(fire)};
    return id;
  }
  void cancel(TimerId id) override { pending_.erase(id); }
  int64_t now_ms() const override { return now; }
  // Fires every timer due within `ms` of its start (all timers here start at "now").
  void fire_due(int64_t ms) {
    std::vector<TimerId> due;
    for (auto& [id, t] : pending_) {
      if (t.first <= ms) due.push_back(id);
    }
    for (TimerId id : due) {
      auto it = pending_.find(id);
      if (it == pending_.end()) continue;
      auto fire = std::move(it->second.second);
      pending_.erase(it);
      fire();
    }
  }
  size_t pending() const { return pending_.size(); }
  int64_t now = 0;  // what now_ms() says; fire_due() leaves it alone

 private:
  TimerId next_ = 1;
  std::map<TimerId, std::pair<int64_t, std::function<void()>>> pending_;
};

using FakeWebhooks = dsb::testing::ManualWebhooks;
using FakeClock = dsb::testing::ManualWallClock;

class FakeSpool : public Spool {
 public:
  struct Append {
    store::SpoolEntry entry;
    std::function<void(Status)> done;
  };
  void append(store::SpoolEntry entry, std::function<void(Status)> done) override {
    appends.push_back({std::move(entry), std::move(done)});
  }
  void due(int64_t, size_t limit, std::function<void(std::vector<store::DueDelivery>)> done) override {
    std::vector<store::DueDelivery> out;
    while (!ready.empty() && out.size() < limit) {
      out.push_back(std::move(ready.front()));
      ready.erase(ready.begin());
    }
    done(std::move(out));
  }
  void record_success(int64_t id, store::Attempt attempt) override {
    outcomes.push_back("success " + std::to_string(id));
    attempts.push_back(std::move(attempt));
  }
  void record_failure(int64_t id, store::Attempt attempt, int64_t retry_at) override {
    outcomes.push_back("failure " + std::to_string(id) + " " + attempt.error);
    retry_at_ms = retry_at;
    attempts.push_back(std::move(attempt));
  }
  void dead_letter(int64_t id, store::Attempt attempt) override {
    outcomes.push_back("dead " + std::to_string(id) + " " + attempt.error);
    attempts.push_back(std::move(attempt));
  }
  void release(int64_t id) override { outcomes.push_back("release " + std::to_string(id)); }
  bool can_record_outcomes() const override { return can_record; }

  std::vector<Append> appends;
  std::vector<store::DueDelivery> ready;  // what the next due() hands out
  std::vector<std::string> outcomes;
  std::vector<store::Attempt> attempts;  // as recorded, in order
  int64_t retry_at_ms = 0;
  bool can_record = true;
};

class RecordingAcks : public stream::AckWriter {
 public:
  void send_ack(stream::ConnectionId conn, const Ack& ack) override {
    acks.push_back({conn, ack});
  }
  std::vector<std::pair<stream::ConnectionId, Ack>> acks;
};

std::string status_of(const Ack& ack) {
  rapidjson::Document doc;
  doc.Parse(ack.data.value_or("{}").c_str());
  return doc.HasMember("status") ? doc["status"].GetString() : "";
}

config::Route route(const char* name, const char* topic, const char* event,
                    std::vector<std::string> urls) {
  config::Route r;
  r.name = name;
  r.topic = topic;
  r.event = event;
  r.urls = std::move(urls);
  r.timeout = std::chrono::milliseconds(5000);
  return r;
}

Frame event(const char* message_id, const char* event_id, const char* type = "user_add_org") {
  Frame f;
  f.type = FrameType::event;
  f.headers = {{"messageId", message_id}, {"topic", "*"}, {"eventType", type}, {"eventId", event_id}};
  f.data = R"({"userId":["u1"]})";
  return f;
}

Frame callback(const char* message_id, const char* topic, std::string data = "{}") {
  Frame f;
  f.type = FrameType::callback;
  f.headers = {{"messageId", message_id}, {"topic", topic}};
  f.data = std::move(data);
  return f;
}

// The exact memory window, whose answers a test may hold back to play a store read.
class DeferrableDedup : public DedupStore {
 public:
  void find(const std::string& key, int64_t now_ms, Answer answer) override {
    auto earlier = window.find(key, now_ms);
    if (!defer) {
      answer(std::move(earlier));
      return;
    }
    held.push_back([answer = std::move(answer), earlier = std::move(earlier)]() mutable {
      answer(std::move(earlier));
    });
  }
  void remember(const std::string& key, DeliveredOutcome outcome, int64_t now_ms) override {
    window.remember(key, std::move(outcome), now_ms);
  }
  void release_held() {
    auto answers = std::move(held);
    held.clear();
    for (auto& answer : answers) answer();
  }
  MemoryDedupStore window{3'600'000};
  bool defer = false;
  std::vector<std::function<void()>> held;
};

struct Fixture {
  explicit Fixture(std::vector<config::Route> routes) : config(make_config(std::move(routes))) {}
  static std::shared_ptr<const config::Config> make_config(std::vector<config::Route> routes) {
    auto c = std::make_shared<config::Config>();
    c->apps.emplace_back();
    c->apps[0].routes = std::move(routes);
    return c;
  }
  std::shared_ptr<const config::Config> config;
  FakeTimers timers;
  FakeWebhooks webhooks;
  FakeClock clock;
  DeferrableDedup dedup;
  RecordingAcks acks;
  FakeSpool spool;
  Relay relay{config, timers, webhooks, clock, dedup, spool};

  void push(Frame f, stream::ConnectionId conn = 1) { relay.on_frame(conn, std::move(f), acks); }
};

std::vector<config::Route> event_routes(std::vector<std::string> urls) {
  return {route("robot", "/v1.0/im/bot/messages/get", "", {"http://w/robot"}),
          route("cards", "/v1.0/card/instances/callback", "", {"http://w/card"}),
          route("events", "", "*", std::move(urls))};
}

}  // namespace

TEST_CASE("an event ACKs SUCCESS once every URL answered 2xx", "[relay]") {
  Fixture f(event_routes({"http://w/a", "http://w/b"}));
  f.push(event("m1", "e1"));
  REQUIRE(f.webhooks.calls.size() == 2);
  CHECK(f.webhooks.calls[0].request.url == "http://w/a");
  CHECK(f.webhooks.calls[1].request.url == "http://w/b");
  CHECK(f.webhooks.calls[0].request.body == R"({"userId":["u1"]})");
  f.webhooks.answer(0, 200);
  CHECK(f.acks.acks.empty());  // still waiting for b
  f.webhooks.answer(1, 204);
  REQUIRE(f.acks.acks.size() == 1);
  CHECK(f.acks.acks[0].first == 1);
  CHECK(f.acks.acks[0].second.message_id == "m1");
  CHECK(status_of(f.acks.acks[0].second) == "SUCCESS");
  CHECK(f.timers.pending() == 0);
  CHECK(f.relay.in_flight() == 0);
}

TEST_CASE("any failure ACKs LATER, the redelivery goes only to the URL that failed", "[relay]") {
  Fixture f(event_routes({"http://w/a", "http://w/b"}));
  f.push(event("m1", "e1"));
  f.webhooks.answer(0, 200);
  f.webhooks.answer(1, 500);
  REQUIRE(f.acks.acks.size() == 1);
  CHECK(status_of(f.acks.acks[0].second) == "LATER");
  CHECK_THAT(*f.acks.acks[0].second.data, Catch::Matchers::Contains("webhook returned 500"));

  f.push(event("m1-again", "e1"), 2);
  REQUIRE(f.webhooks.calls.size() == 3);
  CHECK(f.webhooks.calls[2].request.url == "http://w/b");
  f.webhooks.answer(2, 200);
  REQUIRE(f.acks.acks.size() == 2);
  CHECK(f.acks.acks[1].first == 2);
  CHECK(status_of(f.acks.acks[1].second) == "SUCCESS");
}

TEST_CASE("a refused connection is a failure too", "[relay]") {
  Fixture f(event_routes({"http://w/a"}));
  f.push(event("m1", "e1"));
  f.webhooks.answer(0, 0);
  CHECK(status_of(f.acks.acks.at(0).second) == "LATER");
  CHECK_THAT(*f.acks.acks[0].second.data, Catch::Matchers::Contains("Connection refused"));
}

TEST_CASE("a slow webhook gets LATER at the deadline, its late success is remembered",
          "[relay]") {
  Fixture f(event_routes({"http://w/a"}));
  f.push(event("m1", "e1"));
  f.timers.fire_due(2500);  // limits.ack_deadline default
  REQUIRE(f.acks.acks.size() == 1);
  CHECK(status_of(f.acks.acks[0].second) == "LATER");

  f.webhooks.answer(0, 200);  // the request finishes after the LATER
  CHECK(f.acks.acks.size() == 1);  // nothing more to ACK

  f.push(event("m2", "e1"));  // DingTalk redelivers
  CHECK(f.webhooks.calls.size() == 1);  // no second POST
  REQUIRE(f.acks.acks.size() == 2);
  CHECK(f.acks.acks[1].second.message_id == "m2");
  CHECK(status_of(f.acks.acks[1].second) == "SUCCESS");
}

TEST_CASE("a redelivery while the first is still in flight waits for the same outcome",
          "[relay]") {
  Fixture f(event_routes({"http://w/a"}));
  f.push(event("m1", "e1"), 1);
  f.timers.fire_due(2500);
  f.push(event("m2", "e1"), 2);
  CHECK(f.webhooks.calls.size() == 1);
  f.webhooks.answer(0, 200);
  REQUIRE(f.acks.acks.size() == 2);
  CHECK(status_of(f.acks.acks[0].second) == "LATER");
  CHECK(f.acks.acks[1].first == 2);
  CHECK(status_of(f.acks.acks[1].second) == "SUCCESS");
}

TEST_CASE("a redelivery arriving while the dedup store reads joins the first arrival",
          "[relay]") {
  Fixture f(event_routes({"http://w/a"}));
  f.dedup.defer = true;
  f.push(event("m1", "e1"), 1);
  f.push(event("m2", "e1"), 2);
  CHECK(f.webhooks.calls.empty());  // not before the store has answered
  CHECK(f.dedup.held.size() == 1);  // asked once
  f.dedup.release_held();
  REQUIRE(f.webhooks.calls.size() == 1);
  f.webhooks.answer(0, 200);
  REQUIRE(f.acks.acks.size() == 2);
  CHECK(status_of(f.acks.acks[0].second) == "SUCCESS");
  CHECK(f.acks.acks[1].first == 2);
  CHECK(status_of(f.acks.acks[1].second) == "SUCCESS");
  CHECK(f.relay.in_flight() == 0);
}

TEST_CASE("a duplicate the dedup store recognises later is ACKed without a POST", "[relay]") {
  Fixture f(event_routes({"http://w/a"}));
  f.push(event("m1", "e1"));
  f.webhooks.answer(0, 200);
  f.dedup.defer = true;
  f.push(event("m2", "e1"), 2);
  CHECK(f.acks.acks.size() == 1);
  f.dedup.release_held();
  CHECK(f.webhooks.calls.size() == 1);
  REQUIRE(f.acks.acks.size() == 2);
  CHECK(f.acks.acks[1].second.message_id == "m2");
  CHECK(status_of(f.acks.acks[1].second) == "SUCCESS");
  CHECK(f.timers.pending() == 0);
}

TEST_CASE("shutdown while the dedup store reads: LATER, and nothing POSTed afterwards",
          "[relay]") {
  Fixture f(event_routes({"http://w/a"}));
  f.dedup.defer = true;
  f.push(event("m1", "e1"));
  f.relay.stop_taking_frames();
  f.relay.abandon_in_flight();
  REQUIRE(f.acks.acks.size() == 1);
  CHECK(status_of(f.acks.acks[0].second) == "LATER");
  f.dedup.release_held();
  CHECK(f.webhooks.calls.empty());
  CHECK(f.acks.acks.size() == 1);
}

TEST_CASE("a partial delivery is remembered under the frame's key with the URLs that took it",
          "[relay]") {
  Fixture f(event_routes({"http://w/a", "http://w/b", "http://w/c"}));
  f.push(event("m1", "e1"));
  f.webhooks.answer(0, 200);
  f.webhooks.answer(1, 500);
  f.webhooks.answer(2, 200);
  auto remembered = f.dedup.window.find("event:e1", f.clock.now);
  REQUIRE(remembered);
  CHECK_FALSE(remembered->complete);
  CHECK(remembered->delivered_urls == std::vector<std::string>{"http://w/a", "http://w/c"});
  CHECK(f.dedup.window.size() == 1);  // one record per frame, none per URL

  f.push(event("m2", "e1"));
  REQUIRE(f.webhooks.calls.size() == 4);
  CHECK(f.webhooks.calls[3].request.url == "http://w/b");
  f.webhooks.answer(3, 200);
  CHECK(f.dedup.window.find("event:e1", f.clock.now)->complete);
}

TEST_CASE("rate: an event waiting for its route's token is ACKed LATER at the deadline",
          "[relay]") {
  auto routes = event_routes({"http://w/a"});
  routes[2].rate = config::Rate{1, std::chrono::minutes(1)};
  Fixture f(routes);
  f.push(event("m1", "e1"));
  f.push(event("m2", "e2"));
  REQUIRE(f.webhooks.calls.size() == 1);  // e2 waits for the next token, a minute away
  f.webhooks.answer(0, 200);
  REQUIRE(f.acks.acks.size() == 1);
  CHECK(status_of(f.acks.acks[0].second) == "SUCCESS");

  f.timers.fire_due(2500);  // e2's ACK deadline, long before its token
  REQUIRE(f.acks.acks.size() == 2);
  CHECK(f.acks.acks[1].second.message_id == "m2");
  CHECK(status_of(f.acks.acks[1].second) == "LATER");
  CHECK(f.webhooks.calls.size() == 1);

  // Its turn comes: POSTed once, and the success is remembered for the redelivery.
  f.timers.now = 60'000;
  f.timers.fire_due(60'000);
  REQUIRE(f.webhooks.calls.size() == 2);
  f.webhooks.answer(1, 200);
  f.push(event("m3", "e2"));
  REQUIRE(f.acks.acks.size() == 3);
  CHECK(status_of(f.acks.acks[2].second) == "SUCCESS");
  CHECK(f.webhooks.calls.size() == 2);
}

// --- order_by (product.md section 10) -----------------------------------------------------

namespace {

Frame chat_event(const std::string& message_id, const std::string& conversation) {
  Frame f = event(message_id.c_str(), ("e-" + message_id).c_str());
  f.data = conversation.empty() ? R"({"text":"no conversation"})"
                                : R"({"conversation":{"id":")" + conversation + R"("}})";
  return f;
}

std::vector<config::Route> ordered_routes(const char* order_by = "conversation.id") {
  auto routes = event_routes({"http://w/a"});
  for (auto& r : routes) {
    if (r.name == "events" || r.name == "robot") r.order_by = config::parse_field_path(order_by).value();
  }
  return routes;
}

// The value of the X-DingTalk-Message-Id header of the i-th POST.
std::string posted_message(const FakeWebhooks& webhooks, size_t i) {
  for (const auto& [name, value] : webhooks.calls.at(i).request.headers) {
    if (name == "X-DingTalk-Message-Id") return value;
  }
  return "";
}

}  // namespace

TEST_CASE("order_by: one POST per key at a time, in arrival order, other keys beside it",
          "[relay][order]") {
  Fixture f(ordered_routes());
  f.push(chat_event("a1", "A"));
  f.push(chat_event("b1", "B"));
  f.push(chat_event("a2", "A"));
  f.push(chat_event("n1", ""));  // no conversation: not ordered
  f.push(chat_event("a3", "A"));
  REQUIRE(f.webhooks.calls.size() == 3);
  CHECK(posted_message(f.webhooks, 0) == "a1");
  CHECK(posted_message(f.webhooks, 1) == "b1");
  CHECK(posted_message(f.webhooks, 2) == "n1");
  CHECK(f.relay.ordered_keys() == 2);

  f.webhooks.answer(0, 200);  // a1 done: a2 starts, not a3
  REQUIRE(f.webhooks.calls.size() == 4);
  CHECK(posted_message(f.webhooks, 3) == "a2");
  f.webhooks.answer(3, 500);  // a failure ends a2's delivery too (LATER): a3 starts
  REQUIRE(f.webhooks.calls.size() == 5);
  CHECK(posted_message(f.webhooks, 4) == "a3");
  f.webhooks.answer(4, 200);
  f.webhooks.answer(1, 200);
  f.webhooks.answer(2, 200);
  CHECK(f.acks.acks.size() == 5);
  CHECK(f.relay.in_flight() == 0);
  CHECK(f.relay.ordered_keys() == 0);  // idle keys are released
}

TEST_CASE("order_by: a waiting event is ACKed LATER at ack_deadline and POSTed in its turn",
          "[relay][order]") {
  Fixture f(ordered_routes());
  f.push(chat_event("a1", "A"));
  f.push(chat_event("a2", "A"));
  REQUIRE(f.webhooks.calls.size() == 1);
  f.timers.fire_due(2500);
  REQUIRE(f.acks.acks.size() == 2);
  CHECK(status_of(f.acks.acks[0].second) == "LATER");
  CHECK(status_of(f.acks.acks[1].second) == "LATER");
  f.webhooks.answer(0, 200);
  REQUIRE(f.webhooks.calls.size() == 2);
  CHECK(posted_message(f.webhooks, 1) == "a2");
  f.webhooks.answer(1, 200);
  // Both successes are remembered: the redeliveries are ACKed SUCCESS without a POST.
  f.push(chat_event("a2", "A"));
  CHECK(f.webhooks.calls.size() == 2);
  CHECK(status_of(f.acks.acks.back().second) == "SUCCESS");
}

TEST_CASE("order_by: a redelivery of a frame waiting for its turn joins it, no second POST",
          "[relay][order]") {
  Fixture f(ordered_routes());
  f.push(chat_event("a1", "A"), 1);
  Frame waiting = chat_event("a2", "A");
  f.push(waiting, 1);
  f.timers.fire_due(2500);  // both ACKed LATER; DingTalk redelivers a2 while it still waits
  Frame again = waiting;
  again.headers[0].second = "a2-again";  // new messageId, same eventId
  f.push(again, 2);
  CHECK(f.webhooks.calls.size() == 1);
  f.webhooks.answer(0, 200);
  REQUIRE(f.webhooks.calls.size() == 2);
  f.webhooks.answer(1, 200);
  CHECK(f.webhooks.calls.size() == 2);  // a2 POSTed once
  REQUIRE(f.acks.acks.size() == 3);
  CHECK(f.acks.acks[2].first == 2);
  CHECK(f.acks.acks[2].second.message_id == "a2-again");
  CHECK(status_of(f.acks.acks[2].second) == "SUCCESS");
  CHECK(f.relay.ordered_keys() == 0);
}

TEST_CASE("order_by: robot messages are ACKed at once and POSTed one at a time per key",
          "[relay][order]") {
  Fixture f(ordered_routes("conversationId"));
  auto robot = [](const std::string& msg, const std::string& conversation) {
    return callback(("m-" + msg).c_str(), "/v1.0/im/bot/messages/get",
                    R"({"msgId":")" + msg + R"(","conversationId":")" + conversation +
                        R"(","msgtype":"text","text":{"content":"hi"}})");
  };
  f.push(robot("r1", "c1"));
  f.push(robot("r2", "c1"));
  f.push(robot("r3", "c2"));
  CHECK(f.acks.acks.size() == 3);  // every robot message ACKed on arrival
  REQUIRE(f.webhooks.calls.size() == 2);
  CHECK(f.webhooks.calls[0].request.body.find("r1") != std::string::npos);
  CHECK(f.webhooks.calls[1].request.body.find("r3") != std::string::npos);
  f.webhooks.answer(0, 0);  // refused: r1 failed for good (direct), r2's turn
  REQUIRE(f.webhooks.calls.size() == 3);
  CHECK(f.webhooks.calls[2].request.body.find("r2") != std::string::npos);
  // A redelivery of r2 while it runs joins it: single flight across the order queue.
  f.push(robot("r2", "c1"));
  CHECK(f.webhooks.calls.size() == 3);
}

TEST_CASE("order_by: shutdown drops the waiting starts, nothing is POSTed afterwards",
          "[relay][order]") {
  Fixture f(ordered_routes());
  f.push(chat_event("a1", "A"));
  f.push(chat_event("a2", "A"));
  f.relay.stop_taking_frames();
  f.relay.abandon_in_flight();
  REQUIRE(f.acks.acks.size() == 2);
  CHECK(status_of(f.acks.acks[1].second) == "LATER");
  f.webhooks.answer(0, 200);  // a1's request completes into the void
  CHECK(f.webhooks.calls.size() == 1);
  CHECK(f.relay.ordered_keys() == 0);
}

namespace {
std::vector<std::string> g_relay_log;
void capture_relay_log(std::string_view line) { g_relay_log.emplace_back(line); }
size_t lines_with(const std::string& text) {
  return static_cast<size_t>(std::count_if(g_relay_log.begin(), g_relay_log.end(), [&](const auto& l) {
    return l.find(text) != std::string::npos;
  }));
}
}  // namespace

TEST_CASE("order_by: robot messages running or queued at the end of shutdown are counted and logged",
          "[relay][order]") {
  Fixture f(ordered_routes("conversationId"));
  auto robot = [](const std::string& msg, const std::string& conversation) {
    return callback(("m-" + msg).c_str(), "/v1.0/im/bot/messages/get",
                    R"({"msgId":")" + msg + R"(","conversationId":")" + conversation + R"("})");
  };
  auto& abandoned = metrics::global().counter("dsb_deliveries_abandoned_total", {{"app", "default"}, {"route", "robot"}});
  const uint64_t before = abandoned.value();
  f.push(robot("r1", "c1"));  // runs
  f.push(robot("r2", "c1"));  // waits behind r1
  f.push(robot("r3", "c2"));  // runs
  f.push(chat_event("a1", "A"));  // owes an ACK: LATER, not counted
  REQUIRE(f.webhooks.calls.size() == 3);
  f.relay.stop_taking_frames();
  g_relay_log.clear();
  log::set_sink(&capture_relay_log);
  log::configure(log::Level::debug, log::Format::text);
  f.relay.abandon_in_flight();
  log::set_sink(nullptr);
  log::configure(log::Level::info, log::Format::text);
  CHECK(abandoned.value() - before == 3);
  CHECK(lines_with("robot messages ACKed on arrival dropped") == 1);
  CHECK(lines_with("count=3") == 1);
  CHECK(lines_with("robot message dropped at shutdown") == 3);
  CHECK(lines_with("msg:r2") == 1);
  CHECK(status_of(f.acks.acks.back().second) == "LATER");

  SECTION("nothing dropped, nothing said") {
    Fixture quiet(ordered_routes("conversationId"));
    g_relay_log.clear();
    log::set_sink(&capture_relay_log);
    quiet.relay.abandon_in_flight();
    log::set_sink(nullptr);
    CHECK(g_relay_log.empty());
    CHECK(abandoned.value() - before == 3);
  }
}

TEST_CASE("order_by: a reload that changes the field starts fresh keys", "[relay][order]") {
  Fixture f(ordered_routes("conversation.id"));
  f.push(chat_event("a1", "A"));
  f.push(chat_event("a2", "A"));  // waits behind a1 under the old order_by
  CHECK(f.webhooks.calls.size() == 1);
  f.relay.reload(Fixture::make_config(ordered_routes("conversation")));
  Frame other = chat_event("a3", "A");
  other.data = R"({"conversation":"A"})";
  f.push(other);  // the new field's key "A" is not the old one's
  REQUIRE(f.webhooks.calls.size() == 2);
  CHECK(posted_message(f.webhooks, 1) == "a3");
  f.webhooks.answer(0, 200);  // the old key goes on as it started
  REQUIRE(f.webhooks.calls.size() == 3);
  CHECK(posted_message(f.webhooks, 2) == "a2");
}

TEST_CASE("order_by: a spooled frame is journaled with its order key", "[relay][order]") {
  auto routes = ordered_routes();
  routes[2].delivery = config::Delivery::spool;
  Fixture f(routes);
  f.push(chat_event("a1", "A"));
  f.push(chat_event("n1", ""));
  REQUIRE(f.spool.appends.size() == 2);
  CHECK(f.spool.appends[0].entry.order_key == std::optional<std::string>("A"));
  CHECK_FALSE(f.spool.appends[1].entry.order_key);
  CHECK(f.webhooks.calls.empty());
}

TEST_CASE("unrouted events are ACKed SUCCESS and never posted", "[relay]") {
  Fixture f({route("approvals", "", "bpms_*", {"http://w/a"})});
  f.push(event("m1", "e1", "user_add_org"));
  CHECK(f.webhooks.calls.empty());
  REQUIRE(f.acks.acks.size() == 1);
  CHECK(status_of(f.acks.acks[0].second) == "SUCCESS");
}

TEST_CASE("robot messages: ACK at once, POST, relay a robot reply to sessionWebhook",
          "[relay]") {
  Fixture f(event_routes({"http://w/a"}));
  const std::string data =
      R"({"msgId":"msg1","msgtype":"text","text":{"content":"hi"},"sessionWebhook":"https://dt/robot/sendBySession?session=s1","sessionWebhookExpiredTime":1700000100000})";
  f.push(callback("m1", "/v1.0/im/bot/messages/get", data));
  REQUIRE(f.acks.acks.size() == 1);
  CHECK(f.acks.acks[0].second.code == 200);
  CHECK(*f.acks.acks[0].second.data == R"({"response":null})");
  REQUIRE(f.webhooks.calls.size() == 1);
  CHECK(f.webhooks.calls[0].request.url == "http://w/robot");
  CHECK(f.webhooks.calls[0].request.body == data);

  f.webhooks.answer(0, 200, R"({"msgtype":"text","text":{"content":"hello back"}})");
  REQUIRE(f.webhooks.calls.size() == 2);
  CHECK(f.webhooks.calls[1].request.url == "https://dt/robot/sendBySession?session=s1");
  CHECK(f.webhooks.calls[1].request.body == R"({"msgtype":"text","text":{"content":"hello back"}})");
  f.webhooks.answer(1, 200, R"({"errcode":0})");

  // Redelivered (same msgId, new messageId): ACKed, not posted again.
  f.push(callback("m2", "/v1.0/im/bot/messages/get", data));
  CHECK(f.acks.acks.size() == 2);
  CHECK(f.webhooks.calls.size() == 2);
}

TEST_CASE("robot replies: empty msgtype and expired sessionWebhook send nothing", "[relay]") {
  Fixture f(event_routes({"http://w/a"}));
  f.push(callback("m1", "/v1.0/im/bot/messages/get",
                  R"({"msgId":"a","sessionWebhook":"https://dt/s","sessionWebhookExpiredTime":1700000100000})"));
  f.webhooks.answer(0, 200, R"({"msgtype":"empty"})");
  CHECK(f.webhooks.calls.size() == 1);

  f.push(callback("m2", "/v1.0/im/bot/messages/get",
                  R"({"msgId":"b","sessionWebhook":"https://dt/s","sessionWebhookExpiredTime":1600000000000})"));
  f.webhooks.answer(1, 200, R"({"msgtype":"text","text":{"content":"late"}})");
  CHECK(f.webhooks.calls.size() == 2);  // expired: not relayed
}

TEST_CASE("robot replies: a sessionWebhook neither https nor on api_base is refused and counted",
          "[relay]") {
  Fixture f(event_routes({"http://w/a"}));
  auto& refused = metrics::global().counter(
      "dsb_robot_replies_total", {{"app", "default"}, {"route", "robot"}, {"via", "session_webhook"}, {"outcome", "refused"}});
  const uint64_t before = refused.value();
  int n = 0;
  for (const char* target : {"gopher://127.0.0.1:7/_x", "dict://127.0.0.1:7/d:x",
                             "telnet://127.0.0.1:7/", "http://127.0.0.1:7/s"}) {
    const std::string id = "r" + std::to_string(n);
    f.push(callback(("m" + id).c_str(), "/v1.0/im/bot/messages/get",
                    R"({"msgId":")" + id + R"(","sessionWebhook":")" + target +
                        R"(","sessionWebhookExpiredTime":1700000100000})"));
    REQUIRE(f.webhooks.calls.size() == static_cast<size_t>(n + 1));
    f.webhooks.answer(n, 200, R"({"msgtype":"text","text":{"content":"hi"}})");
    CHECK(f.webhooks.calls.size() == static_cast<size_t>(n + 1));  // nothing sent to it
    ++n;
  }
  CHECK(refused.value() == before + 4);
}

TEST_CASE("callbacks: the reply becomes {response}, failures 500, no route 404", "[relay]") {
  Fixture f(event_routes({"http://w/a"}));
  f.push(callback("m1", "/v1.0/card/instances/callback", R"({"outTrackId":"x"})"));
  CHECK(f.acks.acks.empty());
  f.webhooks.answer(0, 200, R"({"cardData":{"cardParamMap":{"s":"ok"}}})");
  REQUIRE(f.acks.acks.size() == 1);
  CHECK(f.acks.acks[0].second.code == 200);
  CHECK(*f.acks.acks[0].second.data == R"({"response":{"cardData":{"cardParamMap":{"s":"ok"}}}})");

  f.push(callback("m2", "/v1.0/card/instances/callback"));
  f.webhooks.answer(1, 503);
  CHECK(f.acks.acks.at(1).second.code == 500);
  CHECK(f.acks.acks[1].second.message == "webhook returned 503");

  f.push(callback("m3", "/v1.0/card/instances/callback"));
  f.webhooks.answer(2, 200, "not json");
  CHECK(f.acks.acks.at(2).second.code == 500);

  f.push(callback("m4", "/v1.0/card/instances/callback"));
  f.webhooks.answer(3, 200, "");
  CHECK(*f.acks.acks.at(3).second.data == R"({"response":null})");

  f.push(callback("m5", "/v1.0/graph/api/invoke"));
  CHECK(f.acks.acks.at(4).second.code == 404);
  CHECK_FALSE(f.acks.acks[4].second.data.has_value());
}

TEST_CASE("a callback past its route timeout is ACKed 500", "[relay]") {
  Fixture f(event_routes({"http://w/a"}));
  f.push(callback("m1", "/v1.0/card/instances/callback"));
  f.timers.fire_due(2500);
  CHECK(f.acks.acks.empty());  // the route timeout (5 s) is what counts for callbacks
  f.timers.fire_due(5000);
  REQUIRE(f.acks.acks.size() == 1);
  CHECK(f.acks.acks[0].second.code == 500);
  f.webhooks.answer(0, 200, "{}");
  CHECK(f.acks.acks.size() == 1);
}

TEST_CASE("a delivered callback's redelivery gets the same response without a POST",
          "[relay]") {
  Fixture f(event_routes({"http://w/a"}));
  f.push(callback("m1", "/v1.0/card/instances/callback"));
  f.webhooks.answer(0, 200, R"({"a":1})");
  f.push(callback("m1", "/v1.0/card/instances/callback"));
  CHECK(f.webhooks.calls.size() == 1);
  REQUIRE(f.acks.acks.size() == 2);
  CHECK(f.acks.acks[1].second.data == f.acks.acks[0].second.data);
}

TEST_CASE("max_in_flight bounds concurrent POSTs per route, the rest queue in order",
          "[relay]") {
  auto routes = event_routes({"http://w/a"});
  routes[2].max_in_flight = 2;
  Fixture f(routes);
  for (int i = 0; i < 5; ++i) {
    f.push(event(("m" + std::to_string(i)).c_str(), ("e" + std::to_string(i)).c_str()));
  }
  CHECK(f.webhooks.calls.size() == 2);
  f.webhooks.answer(0, 200);
  CHECK(f.webhooks.calls.size() == 3);
  CHECK(f.webhooks.calls[2].request.headers.size() > 0);
  f.webhooks.answer(1, 200);
  f.webhooks.answer(2, 200);
  f.webhooks.answer(3, 200);
  f.webhooks.answer(4, 200);
  CHECK(f.webhooks.calls.size() == 5);
  CHECK(f.acks.acks.size() == 5);
}

TEST_CASE("shutdown: new frames are not taken, waiting ones are ACKed LATER", "[relay]") {
  Fixture f(event_routes({"http://w/a"}));
  f.push(event("m1", "e1"));
  f.relay.stop_taking_frames();
  f.push(event("m2", "e2"));
  CHECK(f.webhooks.calls.size() == 1);
  CHECK(f.relay.in_flight() == 1);
  f.relay.abandon_in_flight();
  REQUIRE(f.acks.acks.size() == 1);
  CHECK(status_of(f.acks.acks[0].second) == "LATER");
  CHECK(f.relay.in_flight() == 0);
  f.webhooks.answer(0, 200);  // completes into the void, harmlessly
  CHECK(f.acks.acks.size() == 1);
}

namespace {

std::vector<config::Route> spool_routes() {
  auto routes = event_routes({"http://w/a", "http://w/b"});
  routes[0].delivery = config::Delivery::spool;  // robot
  routes[2].delivery = config::Delivery::spool;  // events
  routes[2].retry.max_attempts = 2;
  return routes;
}

store::DueDelivery due_from(const store::SpoolEntry& entry, int64_t id, size_t url, int attempts) {
  store::DueDelivery d;
  d.id = id;
  d.route = entry.route;
  d.dedup_key = entry.dedup_key;
  d.frame = entry.frame;
  d.url = entry.urls.at(url);
  d.attempts = attempts;
  d.queued_at_ms = entry.created_at_ms;
  return d;
}

}  // namespace

TEST_CASE("spool: an event is ACKed SUCCESS once journaled, then delivered per URL", "[relay]") {
  Fixture f(spool_routes());
  f.relay.start();
  f.push(event("m1", "e1"));
  REQUIRE(f.spool.appends.size() == 1);
  CHECK(f.webhooks.calls.empty());
  CHECK(f.acks.acks.empty());  // not before the fsync
  const store::SpoolEntry& entry = f.spool.appends[0].entry;
  CHECK(entry.route == "events");
  CHECK(entry.dedup_key == "event:e1");
  CHECK(entry.urls == std::vector<std::string>{"http://w/a", "http://w/b"});

  f.spool.ready = {due_from(entry, 11, 0, 0), due_from(entry, 12, 1, 0)};
  f.spool.appends[0].done(Status::ok());
  REQUIRE(f.acks.acks.size() == 1);
  CHECK(status_of(f.acks.acks[0].second) == "SUCCESS");
  REQUIRE(f.webhooks.calls.size() == 2);  // the journal pumped the spooler
  CHECK(f.webhooks.calls[0].request.headers.size() > 0);
  f.webhooks.answer(0, 200);
  f.webhooks.answer(1, 503);
  CHECK(f.spool.outcomes[0] == "success 11");
  CHECK(f.spool.outcomes[1] == "failure 12 webhook returned 503");
  CHECK(f.spool.retry_at_ms > f.clock.now);

  // The redelivery of a journaled event is ACKed SUCCESS and not journaled again.
  f.push(event("m2", "e1"));
  CHECK(f.spool.appends.size() == 1);
  CHECK(status_of(f.acks.acks.at(1).second) == "SUCCESS");
}

TEST_CASE("spool: a store that fails makes the event LATER", "[relay]") {
  Fixture f(spool_routes());
  f.push(event("m1", "e1"));
  f.spool.appends[0].done(Status::error("disk I/O error"));
  REQUIRE(f.acks.acks.size() == 1);
  CHECK(status_of(f.acks.acks[0].second) == "LATER");
  CHECK_THAT(*f.acks.acks[0].second.data, Catch::Matchers::Contains("disk I/O error"));
  f.push(event("m2", "e1"));  // not remembered: journaled again
  CHECK(f.spool.appends.size() == 2);
}

TEST_CASE("spool: retries are exhausted into a dead letter", "[relay]") {
  Fixture f(spool_routes());
  f.relay.start();
  f.push(event("m1", "e1"));
  const store::SpoolEntry entry = f.spool.appends[0].entry;
  f.spool.ready = {due_from(entry, 21, 0, 1)};  // one attempt made; max_attempts is 2
  f.spool.appends[0].done(Status::ok());
  f.webhooks.answer(0, 500);
  REQUIRE(f.spool.outcomes.size() == 1);
  CHECK(f.spool.outcomes[0] == "dead 21 webhook returned 500");
}

TEST_CASE("spool: a 4xx answer dead-letters at once, but 408, 425 and 429 are retried", "[relay]") {
  Fixture f(spool_routes());
  f.relay.start();
  f.push(event("m1", "e1"));
  const store::SpoolEntry entry = f.spool.appends[0].entry;
  f.spool.ready = {due_from(entry, 51, 0, 0), due_from(entry, 52, 1, 0)};
  f.spool.appends[0].done(Status::ok());
  REQUIRE(f.webhooks.calls.size() == 2);
  f.webhooks.answer(0, 404);
  f.webhooks.answer(1, 429);
  REQUIRE(f.spool.outcomes.size() == 2);
  CHECK(f.spool.outcomes[0] ==
        "dead 51 webhook returned 404 (a 4xx answer is not retried; see retry.retry_4xx)");
  CHECK(f.spool.outcomes[1] == "failure 52 webhook returned 429");
  // Each attempt is recorded with its time and status, for `spool show`.
  CHECK(f.spool.attempts[0].status == 404);
  CHECK(f.spool.attempts[0].at_ms == f.clock.now);
  CHECK(f.spool.attempts[1].status == 429);

  for (int status : {408, 425, 400, 499}) {
    const bool permanent = status != 408 && status != 425;
    f.spool.ready = {due_from(entry, 60 + status, 0, 0)};
    f.timers.fire_due(500);
    f.webhooks.answer(f.webhooks.calls.size() - 1, status);
    CAPTURE(status);
    CHECK(f.spool.outcomes.back().rfind(permanent ? "dead" : "failure", 0) == 0);
  }
}

TEST_CASE("spool: retry.retry_4xx keeps retrying a 4xx", "[relay]") {
  auto routes = spool_routes();
  routes[2].retry.retry_4xx = true;
  Fixture f(routes);
  f.relay.start();
  f.push(event("m1", "e1"));
  f.spool.ready = {due_from(f.spool.appends[0].entry, 71, 0, 0)};
  f.spool.appends[0].done(Status::ok());
  f.webhooks.answer(0, 404);
  REQUIRE(f.spool.outcomes.size() == 1);
  CHECK(f.spool.outcomes[0] == "failure 71 webhook returned 404");
}

TEST_CASE("spool: Retry-After on a 429 or 503 delays the next attempt at least that long",
          "[relay]") {
  auto routes = spool_routes();
  routes[2].retry.max_attempts = 10;
  Fixture f(routes);
  f.relay.start();
  f.push(event("m1", "e1"));
  const store::SpoolEntry entry = f.spool.appends[0].entry;
  f.spool.appends[0].done(Status::ok());
  auto attempt = [&](int64_t id, int status, std::string retry_after) {
    f.spool.ready = {due_from(entry, id, 0, 0)};
    f.timers.fire_due(500);
    f.webhooks.answer(f.webhooks.calls.size() - 1, status, "{}", std::move(retry_after));
    REQUIRE(f.spool.outcomes.size() >= 1);
    return f.spool.retry_at_ms - f.clock.now;
  };
  CHECK(attempt(81, 429, "120") == 120'000);
  CHECK(f.spool.outcomes.back() == "failure 81 webhook returned 429 (Retry-After 2m)");
  // An HTTP-date: 10 minutes after the fake clock's now (1700000000 s).
  CHECK(attempt(82, 503, "Tue, 14 Nov 2023 22:23:20 GMT") == 600'000);
  // Only 429 and 503 carry a wait worth honouring; a short one never shortens the backoff.
  CHECK(attempt(83, 500, "3600") < 3'600'000);
  CHECK(attempt(84, 503, "0") >= 1);
  CHECK(attempt(85, 503, "soon") < 3'600'000);
  // Past max_age (default 24h): the delivery would die waiting; dead-lettered now.
  attempt(86, 503, "172800");
  CHECK(f.spool.outcomes.back() == "dead 86 webhook returned 503 (Retry-After 48h)");
}

TEST_CASE("spool: a robot message is ACKed after its journal, its reply relayed after delivery",
          "[relay]") {
  Fixture f(spool_routes());
  f.relay.start();
  const std::string data =
      R"({"msgId":"r1","sessionWebhook":"https://dt/s","sessionWebhookExpiredTime":1700000100000})";
  f.push(callback("m1", "/v1.0/im/bot/messages/get", data));
  CHECK(f.acks.acks.empty());
  const store::SpoolEntry entry = f.spool.appends.at(0).entry;
  CHECK(entry.dedup_key == "msg:r1");
  f.spool.ready = {due_from(entry, 31, 0, 0)};
  f.spool.appends[0].done(Status::ok());
  REQUIRE(f.acks.acks.size() == 1);
  CHECK(*f.acks.acks[0].second.data == R"({"response":null})");
  f.webhooks.answer(0, 200, R"({"msgtype":"text","text":{"content":"ok"}})");
  REQUIRE(f.webhooks.calls.size() == 2);
  CHECK(f.webhooks.calls[1].request.url == "https://dt/s");
  CHECK(f.spool.outcomes.at(0) == "success 31");
}

TEST_CASE("spool: a robot message's Idempotency-Key is its msgId, as in direct delivery",
          "[relay]") {
  Fixture f(spool_routes());
  f.relay.start();
  f.push(callback("m1", "/v1.0/im/bot/messages/get", R"({"msgId":"r1","robotCode":"dingA"})"));
  const store::SpoolEntry entry = f.spool.appends.at(0).entry;
  CHECK(entry.dedup_key == "msg:dingA/r1");
  f.spool.ready = {due_from(entry, 31, 0, 0)};
  f.spool.appends[0].done(Status::ok());
  REQUIRE(f.webhooks.calls.size() == 1);
  CHECK(f.webhooks.calls[0].header("Idempotency-Key") == "r1");
}

TEST_CASE("spool: shutdown hands deliveries still running back to the spool", "[relay]") {
  Fixture f(spool_routes());
  f.relay.start();
  f.push(event("m1", "e1"));
  f.spool.ready = {due_from(f.spool.appends[0].entry, 41, 0, 0)};
  f.spool.appends[0].done(Status::ok());
  CHECK(f.relay.in_flight() == 1);
  f.relay.stop_taking_frames();
  f.relay.abandon_in_flight();
  CHECK(f.spool.outcomes == std::vector<std::string>{"release 41"});
  CHECK(f.relay.in_flight() == 0);
  f.webhooks.answer(0, 200);  // answers after the release are ignored
  CHECK(f.spool.outcomes.size() == 1);
}

TEST_CASE("spool: no delivery is taken while the store cannot record outcomes", "[relay]") {
  Fixture f(spool_routes());
  f.relay.start();
  f.push(event("m1", "e1"));
  f.spool.ready = {due_from(f.spool.appends[0].entry, 51, 0, 0)};
  f.spool.can_record = false;  // an earlier success waits for a commit (disk full)
  f.spool.appends[0].done(Status::ok());
  CHECK(status_of(f.acks.acks.at(0).second) == "SUCCESS");  // journaled before the disk filled
  f.timers.fire_due(500);
  CHECK(f.webhooks.calls.empty());
  CHECK(f.spool.ready.size() == 1);  // not even claimed

  f.spool.can_record = true;  // the store committed what it held
  f.timers.fire_due(500);     // the next poll resumes on its own
  REQUIRE(f.webhooks.calls.size() == 1);
  f.webhooks.answer(0, 200);
  CHECK(f.spool.outcomes == std::vector<std::string>{"success 51"});
}

TEST_CASE("spool: rate paces spooled deliveries through the same route lane", "[relay]") {
  auto routes = spool_routes();
  routes[2].rate = config::Rate{1, std::chrono::seconds(1)};
  Fixture f(routes);
  f.relay.start();
  f.push(event("m1", "e1"));
  const store::SpoolEntry entry = f.spool.appends[0].entry;
  f.spool.ready = {due_from(entry, 51, 0, 0), due_from(entry, 52, 1, 0)};
  f.spool.appends[0].done(Status::ok());
  REQUIRE(f.webhooks.calls.size() == 1);  // the second waits for the next token
  CHECK(f.webhooks.calls[0].request.url == "http://w/a");
  f.webhooks.answer(0, 200);
  CHECK(f.webhooks.calls.size() == 1);
  f.timers.now = 1000;
  f.timers.fire_due(1000);
  REQUIRE(f.webhooks.calls.size() == 2);
  CHECK(f.webhooks.calls[1].request.url == "http://w/b");
}

namespace {

const char* const kRobot = "/v1.0/im/bot/messages/get";

std::string header_of(const deliver::Request& request, const std::string& name) {
  for (const auto& [n, v] : request.headers) {
    if (n == name) return v;
  }
  return "";
}

config::Route robot_for(const char* name, const char* robot_code, const char* url) {
  config::Route r = route(name, kRobot, "", {url});
  r.match.push_back({config::parse_field_path("robotCode").value(), robot_code});
  return r;
}

std::string robot_data(const char* robot_code, const char* msg_id) {
  return std::string(R"({"msgId":")") + msg_id + R"(","robotCode":")" + robot_code +
         R"(","msgtype":"text","text":{"content":"hi"},"sessionWebhook":"https://dt/s","sessionWebhookExpiredTime":1700099000000})";
}

std::vector<config::Route> graph_routes() {
  auto r = route("skills", "/v1.0/graph/api/invoke", "", {"http://w/skills", "http://w/copy"});
  r.format = config::Format::graph;
  return {r};
}

const char* kGraphGet = R"({"requestLine":{"method":"GET","uri":"/weather?city=x"},"body":""})";

// The statusLine code of a graph ACK's {"response":{...}}.
int graph_code(const Ack& ack) {
  rapidjson::Document doc;
  doc.Parse(ack.data.value_or("{}").c_str());
  if (!doc.IsObject() || !doc.HasMember("response") || !doc["response"].IsObject()) return -1;
  return doc["response"]["statusLine"]["code"].GetInt();
}

}  // namespace

TEST_CASE("long robot webhooks: a redelivery while the POST runs is ACKed at once, not POSTed",
          "[relay]") {
  auto routes = event_routes({"http://w/a"});
  routes[0].timeout = std::chrono::minutes(10);
  Fixture f(routes);
  const std::string data = robot_data("dingA", "msg1");
  f.push(callback("m1", kRobot, data));
  REQUIRE(f.webhooks.calls.size() == 1);
  CHECK(f.webhooks.calls[0].request.timeout == std::chrono::minutes(10));
  f.timers.fire_due(60'000);  // DingTalk redelivers slow robot messages after ~16-60 s
  f.push(callback("m2", kRobot, data));
  f.push(callback("m3", kRobot, data), 2);  // on another connection too
  REQUIRE(f.acks.acks.size() == 3);
  for (const auto& [conn, ack] : f.acks.acks) CHECK(ack.code == 200);
  CHECK(f.webhooks.calls.size() == 1);

  // The webhook answers after minutes: the reply still goes to the sessionWebhook.
  f.clock.now += 5 * 60'000;
  f.webhooks.answer(0, 200, R"({"msgtype":"text","text":{"content":"thought about it"}})");
  REQUIRE(f.webhooks.calls.size() == 2);
  CHECK(f.webhooks.calls[1].request.url == "https://dt/s");
  f.push(callback("m4", kRobot, data));
  CHECK(f.acks.acks.size() == 4);
  CHECK(f.webhooks.calls.size() == 2);
}

TEST_CASE("long robot webhooks: spooled, a redelivery during the journal or the POST is not "
          "journaled or POSTed again", "[relay]") {
  auto routes = spool_routes();
  routes[0].timeout = std::chrono::minutes(10);
  Fixture f(routes);
  f.relay.start();
  const std::string data = robot_data("dingA", "msg1");
  f.push(callback("m1", kRobot, data));
  f.push(callback("m2", kRobot, data));  // while the journal is written
  REQUIRE(f.spool.appends.size() == 1);
  const store::SpoolEntry entry = f.spool.appends[0].entry;
  CHECK(entry.dedup_key == "msg:dingA/msg1");
  f.spool.ready = {due_from(entry, 7, 0, 0)};
  f.spool.appends[0].done(Status::ok());
  REQUIRE(f.acks.acks.size() == 2);
  REQUIRE(f.webhooks.calls.size() == 1);  // the spooler's POST, still running

  f.push(callback("m3", kRobot, data));  // while it runs
  CHECK(f.acks.acks.size() == 3);
  CHECK(f.acks.acks[2].second.code == 200);
  CHECK(f.spool.appends.size() == 1);
  CHECK(f.webhooks.calls.size() == 1);
  f.webhooks.answer(0, 200, R"({"msgtype":"text","text":{"content":"done"}})");
  CHECK(f.webhooks.calls.size() == 2);  // the reply
  CHECK(f.spool.outcomes.at(0) == "success 7");
}

TEST_CASE("long callback webhooks: a 10m timeout waits for the answer, which is the reply",
          "[relay]") {
  auto routes = event_routes({"http://w/a"});
  routes[1].timeout = std::chrono::minutes(10);
  Fixture f(routes);
  f.push(callback("c1", "/v1.0/card/instances/callback"));
  REQUIRE(f.webhooks.calls.size() == 1);
  CHECK(f.webhooks.calls[0].request.timeout == std::chrono::minutes(10));
  f.timers.fire_due(9 * 60'000);
  CHECK(f.acks.acks.empty());
  f.webhooks.answer(0, 200, R"({"ok":1})");
  REQUIRE(f.acks.acks.size() == 1);
  CHECK(f.acks.acks[0].second.code == 200);
  CHECK(*f.acks.acks[0].second.data == R"({"response":{"ok":1}})");
}

// Uses the log capture declared with the order_by tests above.
bool relay_logged(std::string_view text) {
  return std::any_of(g_relay_log.begin(), g_relay_log.end(),
                     [&](const std::string& line) { return line.find(text) != std::string::npos; });
}

TEST_CASE("a robot message that no match route takes is logged as unmatched and ACKed 404",
          "[relay]") {
  Fixture f({robot_for("sales", "dingSALES", "http://w/sales")});
  g_relay_log.clear();
  dsb::log::set_sink(&capture_relay_log);
  f.push(callback("m1", kRobot, robot_data("dingOTHER", "msg1")));
  f.push(callback("m2", "/v1.0/card/instances/callback"));
  dsb::log::set_sink(nullptr);
  CHECK(f.webhooks.calls.empty());
  REQUIRE(f.acks.acks.size() == 2);
  CHECK(f.acks.acks[0].second.code == 404);
  CHECK(f.acks.acks[1].second.code == 404);
  CHECK(relay_logged("no route's match took the callback"));
  CHECK(relay_logged("no route for callback topic"));  // m2: no route for the card topic
  REQUIRE(g_relay_log.size() >= 2);
  CHECK(g_relay_log[0].find("m1") != std::string::npos);
  CHECK(g_relay_log[0].find("no route's match") != std::string::npos);
}

TEST_CASE("dedup by robot: one message for two robots reaches both routes, each once",
          "[relay]") {
  Fixture f({robot_for("sales", "dingSALES", "http://w/sales"),
             robot_for("support", "dingSUPPORT", "http://w/support")});
  f.push(callback("m1", kRobot, robot_data("dingSALES", "msg1")));
  f.push(callback("m2", kRobot, robot_data("dingSUPPORT", "msg1")));
  REQUIRE(f.webhooks.calls.size() == 2);
  CHECK(f.webhooks.calls[0].request.url == "http://w/sales");
  CHECK(f.webhooks.calls[1].request.url == "http://w/support");
  // Each webhook sees DingTalk's msgId (product.md section 5); the robot scope is only
  // the bridge's dedup key.
  CHECK(header_of(f.webhooks.calls[0].request, "Idempotency-Key") == "msg1");
  CHECK(header_of(f.webhooks.calls[1].request, "Idempotency-Key") == "msg1");

  // Redelivered while running, and again after: neither is POSTed twice.
  f.push(callback("m3", kRobot, robot_data("dingSUPPORT", "msg1")));
  f.webhooks.answer(0, 200, "{}");
  f.webhooks.answer(1, 200, "{}");
  f.push(callback("m4", kRobot, robot_data("dingSALES", "msg1")));
  f.push(callback("m5", kRobot, robot_data("dingSUPPORT", "msg1")));
  CHECK(f.webhooks.calls.size() == 2);
  CHECK(f.acks.acks.size() == 5);
  CHECK(f.dedup.window.find("msg:dingSALES/msg1", f.clock.now).has_value());
  CHECK(f.dedup.window.find("msg:dingSUPPORT/msg1", f.clock.now).has_value());
}

TEST_CASE("a graph callback is ACKed 200 with the service's status, whatever it is", "[relay][graph]") {
  Fixture f(graph_routes());
  f.push(callback("m1", "/v1.0/graph/api/invoke", kGraphGet));
  REQUIRE(f.webhooks.calls.size() == 2);
  CHECK(f.webhooks.calls[0].request.method == "GET");
  CHECK(f.webhooks.calls[0].request.url == "http://w/skills/weather?city=x");
  f.webhooks.answer(0, 503, "busy");
  REQUIRE(f.acks.acks.size() == 1);  // the first URL's answer decides
  CHECK(f.acks.acks[0].second.code == 200);
  CHECK(graph_code(f.acks.acks[0].second) == 503);
  f.webhooks.answer(1, 200);

  // A 5xx is not remembered: the redelivery asks the service again.
  f.push(callback("m1", "/v1.0/graph/api/invoke", kGraphGet));
  REQUIRE(f.webhooks.calls.size() == 4);
  auto& ok = metrics::global().counter("dsb_deliveries_total", {{"app", "default"}, {"route", "skills"}, {"outcome", "ok"}});
  const auto ok_before = ok.value();
  f.webhooks.answer(2, 404, "none");
  CHECK(ok.value() == ok_before + 1);  // the service's own 4xx is a delivery
  f.webhooks.answer(3, 200);
  CHECK(graph_code(f.acks.acks.at(1).second) == 404);
  // A delivered answer is: the next redelivery replays it without a request.
  f.push(callback("m1", "/v1.0/graph/api/invoke", kGraphGet));
  CHECK(f.webhooks.calls.size() == 4);
  CHECK(f.acks.acks.at(2).second.data == f.acks.acks[1].second.data);
}

TEST_CASE("a graph callback whose service is down or slow gets 502 or 504, not an error ACK",
          "[relay][graph]") {
  Fixture f(graph_routes());
  auto& failed = metrics::global().counter("dsb_deliveries_total",
                                           {{"app", "default"}, {"route", "skills"}, {"outcome", "failed"}});
  const auto failed_before = failed.value();
  f.push(callback("m1", "/v1.0/graph/api/invoke", kGraphGet));
  f.webhooks.answer(0, 0);
  CHECK(failed.value() == failed_before + 1);  // the bridge's 502 is a failed delivery
  REQUIRE(f.acks.acks.size() == 1);
  CHECK(f.acks.acks[0].second.code == 200);
  CHECK(graph_code(f.acks.acks[0].second) == 502);

  // The relay's own deadline (the route timeout) may fire before the client's.
  f.push(callback("m2", "/v1.0/graph/api/invoke", R"({"requestLine":{"method":"GET","uri":"/b"}})"));
  f.timers.fire_due(5000);
  REQUIRE(f.acks.acks.size() == 2);
  CHECK(f.acks.acks[1].second.code == 200);
  CHECK(graph_code(f.acks.acks[1].second) == 504);
  CHECK_THAT(*f.acks.acks[1].second.data, Catch::Matchers::Contains("still working after 5000 ms"));
}

TEST_CASE("a graph frame that is not a request is answered 400 and counted as malformed",
          "[relay][graph]") {
  Fixture f(graph_routes());
  auto& malformed =
      metrics::global().counter("dsb_frames_malformed_total", {{"app", "default"}, {"reason", "graph_request"}});
  const auto before = malformed.value();
  f.push(callback("m1", "/v1.0/graph/api/invoke", R"({"requestLine":{"method":"GET"}})"));
  f.push(callback("m2", "/v1.0/graph/api/invoke",
                  R"({"requestLine":{"method":"GET","uri":"/../etc/passwd"}})"));
  CHECK(f.webhooks.calls.empty());  // never sent
  REQUIRE(f.acks.acks.size() == 2);
  for (const auto& [conn, ack] : f.acks.acks) {
    CHECK(ack.code == 200);
    CHECK(graph_code(ack) == 400);
  }
  CHECK_THAT(*f.acks.acks[0].second.data, Catch::Matchers::Contains("requestLine.uri is missing"));
  CHECK(malformed.value() == before + 2);
}

TEST_CASE("a graph callback still waiting at shutdown gets 503", "[relay][graph]") {
  Fixture f(graph_routes());
  f.push(callback("m1", "/v1.0/graph/api/invoke", kGraphGet));
  f.relay.abandon_in_flight();
  REQUIRE(f.acks.acks.size() == 1);
  CHECK(graph_code(f.acks.acks[0].second) == 503);
}
