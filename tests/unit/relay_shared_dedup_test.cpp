// The relay over a dedup store shared by replicas (product.md section 12): a redelivery
// another replica is delivering waits for that replica's outcome instead of POSTing again,
// and a delivery that fails without a record gives its claim up. The other replica is
// played by the test, through a fake shared store.
#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <map>
#include <set>

#include "admin/metrics.hpp"
#include "bridge/relay.hpp"
#include "support/fake_ports.hpp"

using namespace dsb;
using namespace dsb::bridge;
using stream::Ack;
using stream::Frame;
using stream::FrameType;

namespace {

// The shared store as one replica sees it. `other_replica` holds keys the other replica has
// claimed; `other_replica_delivers` ends such a claim with its record.
class FakeSharedDedup : public DedupStore {
 public:
  void find(const std::string& key, int64_t, int64_t claim_ms, Answer answer) override {
    ++asks[key];
    last_claim_ms = claim_ms;
    if (auto it = records.find(key); it != records.end()) {
      answer(DedupAnswer::delivered_answer(it->second));
    } else if (other_replica.count(key) != 0) {
      answer(DedupAnswer::elsewhere_answer());
    } else {
      mine.insert(key);
      answer(DedupAnswer::fresh_answer());
    }
  }
  void remember(const std::string& key, DeliveredOutcome outcome, int64_t) override {
    records[key] = std::move(outcome);
    mine.erase(key);
  }
  void release(const std::string& key) override {
    releases.push_back(key);
    mine.erase(key);
  }

  void other_replica_delivers(const std::string& key, DeliveredOutcome outcome = {}) {
    other_replica.erase(key);
    records[key] = std::move(outcome);
  }

  std::map<std::string, DeliveredOutcome> records;
  std::set<std::string> other_replica;
  std::set<std::string> mine;  // claims this replica holds
  std::vector<std::string> releases;
  std::map<std::string, int> asks;
  int64_t last_claim_ms = 0;
};

// Appends wait for the test; the store's claim is checked when the journal is written.
class HeldSpool : public Spool {
 public:
  void append(store::SpoolEntry entry, std::function<void(Status)> done) override {
    keys.push_back(entry.dedup_key);
    pending.push_back(std::move(done));
  }
  void due(int64_t, size_t, std::function<void(std::vector<store::DueDelivery>)> done) override {
    done({});
  }
  void record_success(int64_t, store::Attempt) override {}
  void record_failure(int64_t, store::Attempt, int64_t) override {}
  void dead_letter(int64_t, store::Attempt) override {}
  void release(int64_t) override {}
  bool can_record_outcomes() const override { return true; }

  void finish(size_t i, Status status) { pending.at(i)(std::move(status)); }

  std::vector<std::string> keys;
  std::vector<std::function<void(Status)>> pending;
};

class RecordingAcks : public stream::AckWriter {
 public:
  void send_ack(stream::ConnectionId conn, const Ack& ack) override { acks.push_back({conn, ack}); }
  std::vector<std::pair<stream::ConnectionId, Ack>> acks;
};

std::string status_of(const Ack& ack) {
  rapidjson::Document doc;
  doc.Parse(ack.data.value_or("{}").c_str());
  return doc.IsObject() && doc.HasMember("status") ? doc["status"].GetString() : "";
}

config::Route route(const char* name, const char* topic, const char* event, const char* url,
                    int timeout_ms = 5000) {
  config::Route r;
  r.name = name;
  r.topic = topic;
  r.event = event;
  r.urls = {url};
  r.timeout = std::chrono::milliseconds(timeout_ms);
  return r;
}

constexpr const char* kRobotMessages = "/v1.0/im/bot/messages/get";
constexpr const char* kCardTopic = "/v1.0/card/instances/callback";

Frame event(const char* message_id, const char* event_id) {
  Frame f;
  f.type = FrameType::event;
  f.headers = {{"messageId", message_id}, {"topic", "*"}, {"eventType", "user_add_org"},
               {"eventId", event_id}};
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

uint64_t waits(const char* outcome) {
  return metrics::global().counter("dsb_dedup_waits_total", {{"outcome", outcome}}).value();
}
uint64_t duplicates(const char* route) {
  return metrics::global().counter("dsb_duplicates_total", {{"route", route}}).value();
}

struct Fixture {
  explicit Fixture(config::Delivery delivery = config::Delivery::direct)
      : config(make_config(delivery)) {}
  static std::shared_ptr<const config::Config> make_config(config::Delivery delivery) {
    auto c = std::make_shared<config::Config>();
    c->routes = {route("robot", kRobotMessages, "", "http://w/robot"),
                 route("cards", kCardTopic, "", "http://w/card", /*timeout_ms=*/4000),
                 route("events", "", "*", "http://w/a")};
    for (auto& r : c->routes) r.delivery = delivery;
    return c;
  }
  std::shared_ptr<const config::Config> config;
  dsb::testing::ManualTimers timers;
  dsb::testing::ManualWebhooks webhooks;
  dsb::testing::ManualWallClock clock;
  FakeSharedDedup dedup;
  HeldSpool spool;
  RecordingAcks acks;
  Relay relay{config, timers, webhooks, clock, dedup, spool};

  void push(Frame f, stream::ConnectionId conn = 1) { relay.on_frame(conn, std::move(f), acks); }
};

}  // namespace

TEST_CASE("shared dedup: an event another replica is delivering is ACKed as its outcome, not POSTed",
          "[relay][shared_dedup]") {
  Fixture f;
  const uint64_t delivered_before = waits("delivered");
  const uint64_t duplicates_before = duplicates("events");
  f.dedup.other_replica.insert("event:e1");
  f.push(event("m1", "e1"));
  f.timers.advance(1000);
  CHECK(f.webhooks.calls.empty());
  CHECK(f.acks.acks.empty());
  CHECK(f.dedup.asks["event:e1"] > 1);  // asked again while waiting

  f.dedup.other_replica_delivers("event:e1");
  f.timers.advance(200);
  CHECK(f.webhooks.calls.empty());
  REQUIRE(f.acks.acks.size() == 1);
  CHECK(status_of(f.acks.acks[0].second) == "SUCCESS");
  CHECK(waits("delivered") - delivered_before == 1);
  CHECK(duplicates("events") - duplicates_before == 1);
  CHECK(f.relay.in_flight() == 0);
  CHECK(f.timers.pending() == 0);
}

TEST_CASE("shared dedup: a redelivery found delivered on the shared store counts as a duplicate",
          "[relay][shared_dedup]") {
  Fixture f;
  const uint64_t duplicates_before = duplicates("events");
  f.dedup.other_replica_delivers("event:e1");
  f.push(event("m1", "e1"));
  CHECK(f.webhooks.calls.empty());
  REQUIRE(f.acks.acks.size() == 1);
  CHECK(status_of(f.acks.acks[0].second) == "SUCCESS");
  CHECK(duplicates("events") - duplicates_before == 1);
}

TEST_CASE("shared dedup: still delivered elsewhere at the ACK deadline, the event is ACKed LATER",
          "[relay][shared_dedup]") {
  Fixture f;
  const uint64_t deadline_before = waits("deadline");
  f.dedup.other_replica.insert("event:e1");
  f.push(event("m1", "e1"));
  f.timers.advance(2400);
  CHECK(f.acks.acks.empty());
  f.timers.advance(100);  // limits.ack_deadline: 2500 ms
  REQUIRE(f.acks.acks.size() == 1);
  CHECK(status_of(f.acks.acks[0].second) == "LATER");
  CHECK_THAT(*f.acks.acks[0].second.data, Catch::Matchers::Contains("another replica"));
  f.timers.advance(1000);  // the wait ends: no more asking
  const int asks = f.dedup.asks["event:e1"];
  f.timers.advance(1000);
  CHECK(f.dedup.asks["event:e1"] == asks);
  CHECK(f.webhooks.calls.empty());
  CHECK(waits("deadline") - deadline_before == 1);
  CHECK(f.relay.in_flight() == 0);
  CHECK(f.timers.pending() == 0);

  // DingTalk redelivers; the other replica has finished by then.
  f.dedup.other_replica_delivers("event:e1");
  f.push(event("m2", "e1"));
  CHECK(f.webhooks.calls.empty());
  CHECK(status_of(f.acks.acks.back().second) == "SUCCESS");
}

TEST_CASE("shared dedup: the other replica's claim lapses, this one claims and delivers",
          "[relay][shared_dedup]") {
  Fixture f;
  const uint64_t delivering_before = waits("delivering");
  f.dedup.other_replica.insert("event:e1");
  f.push(event("m1", "e1"));
  f.timers.advance(300);
  CHECK(f.webhooks.calls.empty());
  f.dedup.other_replica.erase("event:e1");  // it died; its lease ran out
  f.timers.advance(200);
  REQUIRE(f.webhooks.calls.size() == 1);
  CHECK(f.dedup.mine.count("event:e1") == 1);
  f.webhooks.answer(0, 200);
  REQUIRE(f.acks.acks.size() == 1);
  CHECK(status_of(f.acks.acks[0].second) == "SUCCESS");
  CHECK(f.dedup.records.count("event:e1") == 1);
  CHECK(f.dedup.mine.empty());
  CHECK(f.dedup.releases.empty());
  CHECK(waits("delivering") - delivering_before == 1);
}

TEST_CASE("shared dedup: a redelivery arriving during the wait joins it", "[relay][shared_dedup]") {
  Fixture f;
  f.dedup.other_replica.insert("event:e1");
  f.push(event("m1", "e1"), 1);
  f.timers.advance(2000);
  f.push(event("m2", "e1"), 2);
  f.timers.advance(500);  // m1's deadline
  REQUIRE(f.acks.acks.size() == 1);
  CHECK(status_of(f.acks.acks[0].second) == "LATER");
  f.dedup.other_replica_delivers("event:e1");
  f.timers.advance(200);  // m2 still waits, and gets the outcome
  REQUIRE(f.acks.acks.size() == 2);
  CHECK(f.acks.acks[1].first == 2);
  CHECK(status_of(f.acks.acks[1].second) == "SUCCESS");
  CHECK(f.webhooks.calls.empty());
}

TEST_CASE("shared dedup: a callback waits for the other replica's reply up to the route timeout",
          "[relay][shared_dedup]") {
  Fixture f;
  f.dedup.other_replica.insert("frame:c1");
  f.push(callback("c1", kCardTopic));
  f.timers.advance(3000);  // past the ACK deadline: a callback waits for its route timeout
  CHECK(f.acks.acks.empty());

  SECTION("the reply arrives: ACKed with it") {
    DeliveredOutcome replied;
    replied.reply = R"({"cardData":{"ok":true}})";
    f.dedup.other_replica_delivers("frame:c1", replied);
    f.timers.advance(200);
    REQUIRE(f.acks.acks.size() == 1);
    CHECK(f.acks.acks[0].second.code == 200);
    CHECK(*f.acks.acks[0].second.data == R"({"response":{"cardData":{"ok":true}}})");
  }
  SECTION("no reply by the route timeout: the failure ACK") {
    f.timers.advance(1000);  // the cards route: 4000 ms
    REQUIRE(f.acks.acks.size() == 1);
    CHECK(f.acks.acks[0].second.code == 500);
  }
  CHECK(f.webhooks.calls.empty());
}

TEST_CASE("shared dedup: a robot message another replica is delivering is not POSTed again",
          "[relay][shared_dedup]") {
  Fixture f;
  const uint64_t duplicates_before = duplicates("robot");
  f.dedup.other_replica.insert("msg:r1");
  f.push(callback("m1", kRobotMessages, R"({"msgId":"r1"})"));
  REQUIRE(f.acks.acks.size() == 1);  // ACKed on arrival, as always
  f.timers.advance(10'000);
  CHECK(f.webhooks.calls.empty());
  CHECK(f.dedup.asks["msg:r1"] == 1);  // nothing to wait for
  CHECK(f.relay.in_flight() == 0);
  CHECK(duplicates("robot") - duplicates_before == 1);
}

TEST_CASE("shared dedup: the claim outlasts the delivery", "[relay][shared_dedup]") {
  Fixture f;
  f.push(event("m1", "e1"));
  CHECK(f.dedup.last_claim_ms == 5000 + 2500);  // route timeout + ack_deadline
  f.push(callback("c1", kCardTopic));
  CHECK(f.dedup.last_claim_ms == 4000 + 2500);
}

TEST_CASE("shared dedup: a failed delivery gives its claim up, a partial one keeps a record",
          "[relay][shared_dedup]") {
  Fixture f;
  SECTION("event") {
    f.push(event("m1", "e1"));
    f.webhooks.answer(0, 500);
    CHECK(status_of(f.acks.acks.at(0).second) == "LATER");
    CHECK(f.dedup.releases == std::vector<std::string>{"event:e1"});
    CHECK(f.dedup.records.empty());
  }
  SECTION("callback") {
    f.push(callback("c1", kCardTopic));
    f.webhooks.answer(0, 503);
    CHECK(f.acks.acks.at(0).second.code == 500);
    CHECK(f.dedup.releases == std::vector<std::string>{"frame:c1"});
  }
  SECTION("robot message") {
    f.push(callback("m1", kRobotMessages, R"({"msgId":"r1"})"));
    f.webhooks.answer(0, 0);
    CHECK(f.dedup.releases == std::vector<std::string>{"msg:r1"});
  }
  SECTION("a success is a record, not a release") {
    f.push(event("m1", "e1"));
    f.webhooks.answer(0, 200);
    f.push(callback("c1", kCardTopic));
    f.webhooks.answer(1, 200, R"({"x":1})");
    CHECK(f.dedup.releases.empty());
    CHECK(f.dedup.records.count("event:e1") == 1);
    CHECK(f.dedup.records.at("frame:c1").reply == R"({"x":1})");
  }
  CHECK(f.dedup.mine.empty());
}

TEST_CASE("shared dedup: a spool route claims before journaling and records once journaled",
          "[relay][shared_dedup]") {
  Fixture f(config::Delivery::spool);
  SECTION("journaled") {
    f.push(event("m1", "e1"));
    REQUIRE(f.spool.keys == std::vector<std::string>{"event:e1"});
    CHECK(f.dedup.mine.count("event:e1") == 1);  // claimed while the journal is written
    CHECK(f.dedup.records.empty());
    f.spool.finish(0, Status::ok());
    CHECK(f.dedup.records.count("event:e1") == 1);
    CHECK(f.dedup.mine.empty());
    CHECK(status_of(f.acks.acks.at(0).second) == "SUCCESS");
  }
  SECTION("not journaled: the claim is released") {
    f.push(event("m1", "e1"));
    f.spool.finish(0, Status::error("disk full"));
    CHECK(status_of(f.acks.acks.at(0).second) == "LATER");
    CHECK(f.dedup.releases == std::vector<std::string>{"event:e1"});
    CHECK(f.dedup.records.empty());
  }
  SECTION("another replica journaling it: not journaled twice") {
    f.dedup.other_replica.insert("event:e1");
    f.push(event("m1", "e1"));
    f.timers.advance(300);
    CHECK(f.spool.keys.empty());
    f.dedup.other_replica_delivers("event:e1");
    f.timers.advance(200);
    CHECK(f.spool.keys.empty());
    CHECK(status_of(f.acks.acks.at(0).second) == "SUCCESS");
  }
}

TEST_CASE("shared dedup: shutdown during the wait ACKs LATER and stops asking",
          "[relay][shared_dedup]") {
  Fixture f;
  f.dedup.other_replica.insert("event:e1");
  f.push(event("m1", "e1"));
  f.timers.advance(300);
  f.relay.stop_taking_frames();
  f.relay.abandon_in_flight();
  REQUIRE(f.acks.acks.size() == 1);
  CHECK(status_of(f.acks.acks[0].second) == "LATER");
  const int asks = f.dedup.asks["event:e1"];
  f.dedup.other_replica.erase("event:e1");
  f.timers.advance(5000);
  CHECK(f.dedup.asks["event:e1"] == asks);
  CHECK(f.webhooks.calls.empty());
  CHECK(f.dedup.mine.empty());
}
