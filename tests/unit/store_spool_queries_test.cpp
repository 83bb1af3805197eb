// What `spool` reads and changes (store/spool_queries.hpp) on a real file: the event each
// delivery carries, one delivery in full with its bounded attempt history, replay and purge
// by id, route and time, and the upgrade of a file made by schema version 2.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "store/database.hpp"
#include "store/spool_queries.hpp"
#include "store/store.hpp"
#include "support/store_helpers.hpp"

using namespace dsb::store;
using dsb::Status;
using dsb::test::TempDir;

namespace {

SpoolEntry event_entry(const std::string& route, const std::string& event_id,
                       const std::string& event_type, std::vector<std::string> urls) {
  SpoolEntry e;
  e.route = route;
  e.dedup_key = "event:" + event_id;
  e.frame.type = dsb::stream::FrameType::event;
  e.frame.headers = {{"messageId", "m-" + event_id}, {"eventId", event_id},
                     {"eventType", event_type}};
  e.frame.data = R"({"n":1})";
  e.urls = std::move(urls);
  e.created_at_ms = 1'000;
  return e;
}

SpoolEntry robot_entry(const std::string& msg_id) {
  SpoolEntry e;
  e.route = "robot";
  e.dedup_key = "msg:" + msg_id;
  e.frame.type = dsb::stream::FrameType::callback;
  e.frame.headers = {{"messageId", "m-" + msg_id}, {"topic", "/v1.0/im/bot/messages/get"}};
  e.frame.data = R"({"msgId":")" + msg_id + R"("})";
  e.urls = {"http://robot"};
  e.created_at_ms = 1'000;
  return e;
}

void wait(const std::function<void(std::function<void(Status)>)>& call) {
  REQUIRE(dsb::test::wait_status(call));
}

std::unique_ptr<Database> open_db(const TempDir& dir) {
  auto db = Database::open(database_path(dir.state()));
  REQUIRE(db);
  return std::move(db.value());
}

// One delivery per entry, all claimed; the clock of the store is `clock`.
struct Spool {
  TempDir dir;
  int64_t clock = 10'000;
  std::unique_ptr<Store> store;
  Spool() {
    StoreOptions o;
    o.state_dir = dir.state();
    o.wall_clock = [this] { return clock; };
    store = std::make_unique<Store>(o);
  }
  std::vector<DueDelivery> add(std::vector<SpoolEntry> entries) {
    for (auto& e : entries) wait([&](auto done) { store->append(std::move(e), done); });
    return dsb::test::due_sync(*store, clock);
  }
  void kill(int64_t id, int status, const std::string& error) {
    wait([&](auto done) { store->dead_letter(id, {clock, status, error}, done); });
  }
};

}  // namespace

TEST_CASE("spool queries: each delivery says which DingTalk event it carries", "[store][spool]") {
  Spool spool;
  auto due = spool.add({event_entry("orders", "ev-1", "order_paid", {"http://a", "http://b"}),
                        robot_entry("msg-9")});
  REQUIRE(due.size() == 3);
  spool.kill(due[1].id, 500, "webhook returned 500");
  auto db = open_db(spool.dir);
  auto rows = read_deliveries(*db);
  REQUIRE(rows);
  REQUIRE(rows.value().size() == 3);
  const DeliveryRow& dead = rows.value()[0];  // dead letters first
  CHECK(dead.id == due[1].id);
  CHECK(dead.state == "dead");
  CHECK(dead.route == "orders");
  CHECK(dead.url == "http://b");
  CHECK(dead.dingtalk_id == "ev-1");
  CHECK(dead.event == "order_paid");
  CHECK(dead.attempts == 1);
  CHECK(dead.updated_at_ms == 10'000);
  CHECK(dead.last_error == "webhook returned 500");
  const DeliveryRow& robot = rows.value()[2];
  CHECK(robot.dingtalk_id == "msg-9");
  CHECK(robot.event == "/v1.0/im/bot/messages/get");
  CHECK(robot.state == "pending");
}

TEST_CASE("spool queries: a delivery in full, with its attempts", "[store][spool]") {
  Spool spool;
  auto due = spool.add({event_entry("orders", "ev-1", "order_paid", {"http://a"})});
  REQUIRE(due.size() == 1);
  const int64_t id = due[0].id;
  wait([&](auto done) { spool.store->record_failure(id, {11'000, 0, "refused"}, 0, done); });
  REQUIRE(dsb::test::due_sync(*spool.store, spool.clock).size() == 1);
  wait([&](auto done) { spool.store->record_success(id, {12'000, 204, ""}, done); });

  auto db = open_db(spool.dir);
  auto found = read_delivery(*db, id);
  REQUIRE(found);
  REQUIRE(found.value());
  const DeliveryDetail& detail = *found.value();
  CHECK(detail.row.state == "delivered");
  CHECK(detail.frame_type == "EVENT");
  CHECK(detail.body == R"({"n":1})");
  using Header = std::pair<std::string, std::string>;
  CHECK(detail.headers == std::vector<Header>{{"messageId", "m-ev-1"}, {"eventId", "ev-1"},
                                              {"eventType", "order_paid"}});
  REQUIRE(detail.history.size() == 2);
  CHECK(detail.history[0].attempt == 1);
  CHECK(detail.history[0].at_ms == 11'000);
  CHECK(detail.history[0].outcome == "retry");
  CHECK(detail.history[0].status == 0);
  CHECK(detail.history[0].error == "refused");
  CHECK(detail.history[1].attempt == 2);
  CHECK(detail.history[1].outcome == "delivered");
  CHECK(detail.history[1].status == 204);

  auto missing = read_delivery(*db, 999);
  REQUIRE(missing);
  CHECK_FALSE(missing.value());
}

TEST_CASE("spool queries: the history keeps the first and the last attempts", "[store][spool]") {
  Spool spool;
  auto due = spool.add({event_entry("orders", "ev-1", "order_paid", {"http://a"})});
  const int64_t id = due[0].id;
  const int total = kFirstAttemptsKept + kLastAttemptsKept + 7;
  for (int i = 1; i < total; ++i) {
    wait([&](auto done) {
      spool.store->record_failure(id, {i * 1'000, 503, "try " + std::to_string(i)}, 0, done);
    });
    REQUIRE(dsb::test::due_sync(*spool.store, spool.clock).size() == 1);
  }
  spool.kill(id, 503, "last");

  auto db = open_db(spool.dir);
  auto detail = read_delivery(*db, id);
  REQUIRE(detail);
  const auto& history = detail.value()->history;
  REQUIRE(history.size() == static_cast<size_t>(kFirstAttemptsKept + kLastAttemptsKept));
  for (int i = 0; i < kFirstAttemptsKept; ++i) CHECK(history[i].attempt == i + 1);
  CHECK(history[kFirstAttemptsKept].attempt == total - kLastAttemptsKept + 1);
  CHECK(history.back().attempt == total);
  CHECK(history.back().outcome == "dead");
  CHECK(history.back().error == "last");
  CHECK(detail.value()->row.attempts == total);
}

TEST_CASE("spool queries: replay and purge by id, route and time of death", "[store][spool]") {
  Spool spool;
  auto due = spool.add({event_entry("orders", "ev-1", "t", {"http://a", "http://b"}),
                        event_entry("crm", "ev-2", "t", {"http://c"})});
  REQUIRE(due.size() == 3);
  spool.clock = 20'000;
  spool.kill(due[0].id, 410, "gone");
  spool.clock = 90'000;
  spool.kill(due[1].id, 500, "boom");
  spool.kill(due[2].id, 500, "boom");
  auto db = open_db(spool.dir);

  DeadLetterSelection recent;
  recent.died_since_ms = 50'000;
  recent.route = "orders";
  auto replayed = replay_dead_letters(*db, recent, 100'000);
  REQUIRE(replayed);
  CHECK(replayed.value() == std::vector<int64_t>{due[1].id});

  DeadLetterSelection one;
  one.id = due[0].id;
  auto purged = purge_dead_letters(*db, one);
  REQUIRE(purged);
  CHECK(purged.value() == std::vector<int64_t>{due[0].id});
  auto gone = read_delivery(*db, due[0].id);
  REQUIRE(gone);
  CHECK_FALSE(gone.value());

  auto rest = replay_dead_letters(*db, {}, 100'000);
  REQUIRE(rest);
  CHECK(rest.value() == std::vector<int64_t>{due[2].id});
  auto rows = read_deliveries(*db);
  REQUIRE(rows);
  for (const auto& row : rows.value()) {
    CHECK(row.state == "pending");
    CHECK(row.attempts == 0);
    CHECK(row.next_attempt_at_ms == 100'000);
  }
  // The history of a replayed delivery stays: the new attempts follow it.
  auto replayed_detail = read_delivery(*db, due[1].id);
  REQUIRE(replayed_detail);
  CHECK(replayed_detail.value()->history.size() == 1);
}

TEST_CASE("spool queries: a file of schema version 2 is upgraded with its rows",
          "[store][spool]") {
  TempDir dir;
  REQUIRE(ensure_state_dir(dir.state()));
  {
    OpenOptions v2;
    v2.target_version = 2;
    auto db = Database::open(database_path(dir.state()), v2);
    REQUIRE(db);
    REQUIRE(db.value()->exec(
        "INSERT INTO spool_frames (route, dedup_key, frame_type, headers, data, created_at) "
        "VALUES ('orders', 'event:old', 'EVENT', '{\"eventId\":\"old\",\"eventType\":\"x\"}', "
        "'{}', 100);"
        "INSERT INTO spool_deliveries (frame_id, url, state, attempts, queued_at, "
        "next_attempt_at, last_error, updated_at) VALUES (1, 'http://a', 'dead', 4, 100, 100, "
        "'HTTP 500', 200);"));
  }
  auto db = Database::open(database_path(dir.state()));
  REQUIRE(db);
  CHECK(db.value()->schema_version() == latest_schema_version());
  CHECK(latest_schema_version() == 4);
  auto detail = read_delivery(*db.value(), 1);
  REQUIRE(detail);
  REQUIRE(detail.value());
  CHECK(detail.value()->row.dingtalk_id == "old");
  CHECK(detail.value()->row.event == "x");
  CHECK(detail.value()->row.attempts == 4);
  CHECK(detail.value()->history.empty());  // attempts before the upgrade were not kept
}
