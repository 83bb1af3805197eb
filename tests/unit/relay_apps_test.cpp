// One Relay for several apps (product.md section 12): frames take their own app's routes,
// dedup is scoped per app, webhooks are told the app, and spooled deliveries name their
// route as "<app>/<route>".
#include <catch2/catch.hpp>

#include "bridge/relay.hpp"
#include "support/fake_ports.hpp"

using namespace dsb;
using namespace dsb::bridge;
using stream::Ack;
using stream::Frame;
using stream::FrameType;

namespace {

class RecordingAcks : public stream::AckWriter {
 public:
  void send_ack(stream::ConnectionId conn, const Ack& ack) override { acks.push_back({conn, ack}); }
  std::vector<std::pair<stream::ConnectionId, Ack>> acks;
};

class RecordingSpool : public Spool {
 public:
  void append(store::SpoolEntry entry, std::function<void(Status)> done) override {
    appended.push_back(entry);
    done(Status::ok());
  }
  void due(int64_t, size_t, std::function<void(std::vector<store::DueDelivery>)> done) override {
    done({});
  }
  void record_success(int64_t, store::Attempt) override {}
  void record_failure(int64_t, store::Attempt, int64_t) override {}
  void dead_letter(int64_t, store::Attempt) override {}
  void release(int64_t) override {}
  bool can_record_outcomes() const override { return true; }
  std::vector<store::SpoolEntry> appended;
};

config::Route event_route(const char* name, const char* url,
                          config::Delivery delivery = config::Delivery::direct) {
  config::Route r;
  r.name = name;
  r.event = "*";
  r.urls = {url};
  r.delivery = delivery;
  return r;
}

config::App app(const char* name, const char* client_id, std::vector<config::Route> routes) {
  config::App a;
  a.name = name;
  a.dingtalk.client_id = client_id;
  a.dingtalk.client_secret = "s";
  a.routes = std::move(routes);
  return a;
}

Frame event(const char* message_id, const char* event_id) {
  Frame f;
  f.type = FrameType::event;
  f.headers = {{"messageId", message_id}, {"topic", "*"}, {"eventType", "user_add_org"},
               {"eventId", event_id}};
  f.data = R"({"userId":["u1"]})";
  return f;
}

struct Fixture {
  explicit Fixture(std::vector<config::App> apps) : config(make_config(std::move(apps))) {}
  static std::shared_ptr<const config::Config> make_config(std::vector<config::App> apps) {
    auto c = std::make_shared<config::Config>();
    c->apps = std::move(apps);
    return c;
  }
  std::shared_ptr<const config::Config> config;
  testing::ManualTimers timers;
  testing::ManualWebhooks webhooks;
  testing::ManualWallClock clock;
  MemoryDedupStore dedup{3'600'000};
  RecordingSpool spool;
  Relay relay{config, timers, webhooks, clock, dedup, spool};
};

}  // namespace

TEST_CASE("apps: each app's frames take its own routes and name the app", "[relay][apps]") {
  Fixture f({app("default", "id-d", {event_route("all", "http://h/default")}),
             app("hr", "id-hr", {event_route("all", "http://h/hr")})});
  RecordingAcks hr_acks, default_acks;
  f.relay.on_frame("hr", 7, event("m1", "e1"), hr_acks);
  REQUIRE(f.webhooks.calls.size() == 1);
  CHECK(f.webhooks.calls[0].request.url == "http://h/hr");
  CHECK(f.webhooks.calls[0].header("X-DingTalk-App") == "hr");
  f.relay.on_frame("default", 7, event("m2", "e2"), default_acks);
  REQUIRE(f.webhooks.calls.size() == 2);
  CHECK(f.webhooks.calls[1].request.url == "http://h/default");
  CHECK(f.webhooks.calls[1].header("X-DingTalk-App") == "default");
  f.webhooks.answer(0, 200);
  f.webhooks.answer(1, 200);
  // Each ACK goes back through the connection's own client.
  REQUIRE(hr_acks.acks.size() == 1);
  CHECK(hr_acks.acks[0].second.message_id == "m1");
  REQUIRE(default_acks.acks.size() == 1);
  CHECK(default_acks.acks[0].second.message_id == "m2");
}

TEST_CASE("apps: one eventId in two apps is delivered to both, a repeat in one app is not",
          "[relay][apps][dedup]") {
  Fixture f({app("default", "id-d", {event_route("all", "http://h/default")}),
             app("hr", "id-hr", {event_route("all", "http://h/hr")})});
  RecordingAcks acks;
  f.relay.on_frame("default", 1, event("m1", "same-event"), acks);
  f.webhooks.answer(0, 200);
  f.relay.on_frame("hr", 2, event("m2", "same-event"), acks);
  REQUIRE(f.webhooks.calls.size() == 2);
  CHECK(f.webhooks.calls[1].request.url == "http://h/hr");
  f.webhooks.answer(1, 200);
  f.relay.on_frame("hr", 2, event("m3", "same-event"), acks);  // a redelivery within hr
  CHECK(f.webhooks.calls.size() == 2);
  REQUIRE(acks.acks.size() == 3);
  // The app "default" keeps the bare key (an upgrade keeps its dedup window); the others
  // are prefixed.
  const std::string bare = dedup_key(event("x", "same-event"), {});
  CHECK(f.dedup.find(bare, 0).has_value());
  CHECK(f.dedup.find("app:hr/" + bare, 0).has_value());
  config::App hr = app("hr", "id-hr", {});
  config::App plain = app("default", "id-d", {});
  CHECK(dedup_key_in_app(hr, "K") == "app:hr/K");
  CHECK(dedup_key_in_app(plain, "K") == "K");
}

TEST_CASE("apps: a spooled delivery names its route <app>/<route>", "[relay][apps]") {
  Fixture f({app("default", "id-d", {event_route("approvals", "http://h/d", config::Delivery::spool)}),
             app("hr", "id-hr", {event_route("approvals", "http://h/hr", config::Delivery::spool)})});
  RecordingAcks acks;
  f.relay.on_frame("hr", 1, event("m1", "e1"), acks);
  f.relay.on_frame("default", 1, event("m2", "e2"), acks);
  REQUIRE(f.spool.appended.size() == 2);
  CHECK(f.spool.appended[0].route == "hr/approvals");
  CHECK(f.spool.appended[0].dedup_key == "app:hr/" + dedup_key(event("x", "e1"), {}));
  CHECK(f.spool.appended[1].route == "approvals");
}

TEST_CASE("apps: a frame of an app the config no longer has is left un-ACKed", "[relay][apps]") {
  Fixture f({app("hr", "id-hr", {event_route("all", "http://h/hr")})});
  RecordingAcks acks;
  f.relay.on_frame("gone", 1, event("m1", "e1"), acks);
  CHECK(f.webhooks.calls.empty());
  CHECK(acks.acks.empty());
  CHECK(f.relay.in_flight("gone") == 0);
  f.relay.on_frame("hr", 1, event("m2", "e2"), acks);
  CHECK(f.relay.in_flight("hr") == 1);
}
