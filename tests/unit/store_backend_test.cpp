// The Backend contract (store/backend.hpp), run against both backends: SQLite on a
// temporary state_dir and Redis on a real redis-server of its own. What only one backend
// has stays in its own file: SQLite's files, lock, schema and fault hooks in
// store_spool_test.cpp, Redis's leases across replicas and outages in store_redis_test.cpp.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "support/backend_harness.hpp"

using namespace dsb::store;
using namespace dsb::test;

namespace {

SpoolEntry entry(const std::string& id, std::vector<std::string> urls, int64_t created = 1'000) {
  SpoolEntry e;
  e.route = "orders";
  e.dedup_key = "event:" + id;
  e.frame.type = dsb::stream::FrameType::event;
  e.frame.headers = {{"messageId", "m-" + id}, {"eventId", id}, {"eventType", "order_paid"}};
  e.frame.data = R"({"order":")" + id + R"("})";
  e.urls = std::move(urls);
  e.created_at_ms = created;
  return e;
}

SpoolEntry ordered(const std::string& id, std::optional<std::string> key,
                   std::vector<std::string> urls = {"http://a"}, std::string route = "chat") {
  SpoolEntry e = spool_entry(id);
  e.route = std::move(route);
  e.urls = std::move(urls);
  e.order_key = std::move(key);
  return e;
}

std::vector<std::string> ids_of(const std::vector<DueDelivery>& due) {
  std::vector<std::string> out;
  for (const auto& d : due) out.push_back(std::string(d.frame.header("eventId")) + "@" + d.url);
  return out;
}

void succeed(Backend& store, const DueDelivery& d) {
  REQUIRE(wait_status([&](auto done) { store.record_success(d.id, {1'100, 200, ""}, done); }));
}

bool counts_are(Backend& store, int64_t pending, int64_t dead) {
  return eventually([&] {
    const SpoolCounts c = store.counts();
    return c.pending == pending && c.dead == dead;
  });
}

}  // namespace

TEST_CASE("store backends: an appended frame survives closing and reopening", "[store][backend]") {
  BackendHarness harness(GENERATE(as<std::string>{}, "sqlite", "redis"));
  INFO(harness.kind());
  {
    auto store = harness.open();
    REQUIRE(append_sync(*store, entry("e1", {"http://a/1", "http://b/1"}, 5'000)));
    CHECK(counts_are(*store, 2, 0));
  }
  auto store = harness.open();
  REQUIRE(store->wait_open());
  CHECK(counts_are(*store, 2, 0));
  auto due = due_sync(*store, 5'000);
  REQUIRE(due.size() == 2);
  CHECK(due[0].url == "http://a/1");
  CHECK(due[1].url == "http://b/1");
  CHECK(due[0].route == "orders");
  CHECK(due[0].dedup_key == "event:e1");
  CHECK(due[0].frame.type == dsb::stream::FrameType::event);
  CHECK(due[0].frame.header("eventId") == "e1");
  CHECK(due[0].frame.header("eventType") == "order_paid");
  CHECK(due[0].frame.data == R"({"order":"e1"})");
  CHECK(due[0].attempts == 0);
  CHECK(due[0].created_at_ms == 5'000);
  CHECK(due[0].queued_at_ms == 5'000);
  CHECK(due[0].frame_id == due[1].frame_id);
}

TEST_CASE("store backends: due claims, success / failure / dead move a delivery on",
          "[store][backend]") {
  BackendHarness harness(GENERATE(as<std::string>{}, "sqlite", "redis"));
  INFO(harness.kind());
  auto store = harness.open();
  REQUIRE(append_sync(*store, entry("e1", {"http://a", "http://b", "http://c"}, 1'000)));

  CHECK(due_sync(*store, 999).empty());  // not due before created_at
  auto first = due_sync(*store, 1'000, 2);
  REQUIRE(first.size() == 2);
  auto rest = due_sync(*store, 1'000);
  REQUIRE(rest.size() == 1);  // the two claimed ones are not handed out again
  CHECK(rest[0].url == "http://c");
  CHECK(due_sync(*store, 1'000).empty());

  REQUIRE(wait_status([&](auto done) { store->record_success(first[0].id, {1'100, 200, ""}, done); }));
  REQUIRE(wait_status([&](auto done) {
    store->record_failure(first[1].id, {1'100, 503, "HTTP 503"}, 3'000, done);
  }));
  REQUIRE(wait_status([&](auto done) { store->dead_letter(rest[0].id, {1'100, 410, "HTTP 410"}, done); }));
  CHECK(counts_are(*store, 1, 1));

  CHECK(due_sync(*store, 2'999).empty());  // retried at next_attempt_at, not before
  auto retried = due_sync(*store, 3'000);
  REQUIRE(retried.size() == 1);
  CHECK(retried[0].id == first[1].id);
  CHECK(retried[0].attempts == 1);

  // release() ends a claim with no attempt: due again at once.
  store->release(retried[0].id);
  auto again = due_sync(*store, 3'000);
  REQUIRE(again.size() == 1);
  CHECK(again[0].attempts == 1);

  // A delivered or dead delivery ignores further outcomes.
  REQUIRE(wait_status([&](auto done) { store->record_failure(first[0].id, {1'200, 0, "late"}, 0, done); }));
  REQUIRE(wait_status([&](auto done) { store->record_failure(rest[0].id, {1'200, 0, "late"}, 0, done); }));
  CHECK(due_sync(*store, 10'000).empty());
  CHECK(counts_are(*store, 1, 1));

  // The history `spool show` reads: the failure, then the retry's death.
  REQUIRE(wait_status([&](auto done) { store->dead_letter(again[0].id, {3'100, 500, "HTTP 500"}, done); }));
  auto detail = harness.with_queries([&](SpoolQueries& q) { return q.delivery(again[0].id); });
  REQUIRE(detail);
  REQUIRE(detail.value());
  const DeliveryDetail& d = *detail.value();
  CHECK(d.row.state == "dead");
  CHECK(d.row.attempts == 2);
  CHECK(d.row.last_error == "HTTP 500");
  CHECK(d.row.dingtalk_id == "e1");
  CHECK(d.row.event == "order_paid");
  CHECK(d.body == R"({"order":"e1"})");
  REQUIRE(d.history.size() == 2);
  CHECK(d.history[0].outcome == "retry");
  CHECK(d.history[0].status == 503);
  CHECK(d.history[1].attempt == 2);
  CHECK(d.history[1].outcome == "dead");
  CHECK(d.history[1].error == "HTTP 500");
}

TEST_CASE("store backends: a delivery retried many times keeps its first and latest attempts",
          "[store][backend]") {
  BackendHarness harness(GENERATE(as<std::string>{}, "sqlite", "redis"));
  INFO(harness.kind());
  auto store = harness.open();
  REQUIRE(append_sync(*store, entry("e1", {"http://a"}, 1'000)));
  int64_t id = 0;
  for (int i = 1; i <= 20; ++i) {
    auto due = due_sync(*store, 1'000 + i);
    REQUIRE(due.size() == 1);
    id = due[0].id;
    REQUIRE(wait_status([&](auto done) {
      store->record_failure(id, {1'000 + i, 500, "try " + std::to_string(i)}, 1'001 + i, done);
    }));
  }
  auto detail = harness.with_queries([&](SpoolQueries& q) { return q.delivery(id); });
  REQUIRE(detail);
  REQUIRE(detail.value());
  const auto& history = detail.value()->history;
  REQUIRE(history.size() == size_t{kFirstAttemptsKept + kLastAttemptsKept});
  CHECK(history[0].error == "try 1");
  CHECK(history[kFirstAttemptsKept - 1].error == "try 3");
  CHECK(history[kFirstAttemptsKept].error == "try 11");
  CHECK(history.back().error == "try 20");
}

TEST_CASE("store backends: a claim held by a stopped instance is due again for the next one",
          "[store][backend]") {
  BackendHarness harness(GENERATE(as<std::string>{}, "sqlite", "redis"));
  INFO(harness.kind());
  {
    auto store = harness.open("first");
    REQUIRE(append_sync(*store, entry("e1", {"http://a"})));
    REQUIRE(due_sync(*store, 1'000).size() == 1);
    CHECK(due_sync(*store, 1'000).empty());
  }
  // SQLite: claims are in memory, due at once. Redis: due once the lease lapsed.
  auto store = harness.open("second");
  CHECK(eventually([&] { return due_sync(*store, 1'000).size() == 1; }));
}

TEST_CASE("store backends: dedup records are found, claimed as delivered, absent ones are mine",
          "[store][backend][dedup]") {
  BackendHarness harness(GENERATE(as<std::string>{}, "sqlite", "redis"));
  INFO(harness.kind());
  auto store = harness.open();
  REQUIRE(store->wait_open());
  auto absent = claim_sync(*store, "event:new");
  REQUIRE(absent);
  CHECK(absent->state == DedupClaim::State::mine);
  store->release_dedup("event:new");

  store->remember_dedup({"event:1", 200, "{\"ok\":true}", 5'000});
  CHECK(eventually([&] { return find_sync(*store, "event:1").has_value(); }));
  auto found = find_sync(*store, "event:1");
  REQUIRE(found);
  CHECK(found->code == 200);
  CHECK(found->data == "{\"ok\":true}");
  CHECK(found->remembered_at_ms == 5'000);
  CHECK_FALSE(find_sync(*store, "event:1", 5'001));  // older than `since`: absent

  auto claimed = claim_sync(*store, "event:1");
  REQUIRE(claimed);
  CHECK(claimed->state == DedupClaim::State::delivered);
  CHECK(claimed->record.data == "{\"ok\":true}");

  store->remember_dedup({"event:1", 500, "later", 6'000});  // remembered again: the latest
  CHECK(eventually([&] { auto r = find_sync(*store, "event:1"); return r && r->code == 500; }));
}

TEST_CASE("store backends: spool order, one delivery per key at a time, other keys go on",
          "[store][backend][order]") {
  BackendHarness harness(GENERATE(as<std::string>{}, "sqlite", "redis"));
  INFO(harness.kind());
  auto store = harness.open();
  REQUIRE(store->wait_open());
  REQUIRE(append_sync(*store, ordered("a1", "conv-a")));
  REQUIRE(append_sync(*store, ordered("b1", "conv-b")));
  REQUIRE(append_sync(*store, ordered("a2", "conv-a")));
  REQUIRE(append_sync(*store, ordered("n1", std::nullopt)));
  REQUIRE(append_sync(*store, ordered("n2", std::nullopt)));
  REQUIRE(append_sync(*store, ordered("a3", "conv-a")));

  auto first = due_sync(*store);
  CHECK(ids_of(first) == std::vector<std::string>{"a1@http://a", "b1@http://a", "n1@http://a",
                                                  "n2@http://a"});
  CHECK(due_sync(*store).empty());  // a2 waits behind the claimed a1

  succeed(*store, first[0]);
  auto second = due_sync(*store);
  CHECK(ids_of(second) == std::vector<std::string>{"a2@http://a"});
  succeed(*store, second[0]);
  CHECK(ids_of(due_sync(*store)) == std::vector<std::string>{"a3@http://a"});
}

TEST_CASE("store backends: spool order, a failing head holds back its own key only",
          "[store][backend][order]") {
  BackendHarness harness(GENERATE(as<std::string>{}, "sqlite", "redis"));
  INFO(harness.kind());
  auto store = harness.open();
  REQUIRE(store->wait_open());
  REQUIRE(append_sync(*store, ordered("a1", "conv-a")));
  REQUIRE(append_sync(*store, ordered("a2", "conv-a")));
  REQUIRE(append_sync(*store, ordered("b1", "conv-b")));
  auto first = due_sync(*store, 10'000);
  REQUIRE(ids_of(first) == std::vector<std::string>{"a1@http://a", "b1@http://a"});
  REQUIRE(wait_status([&](auto done) {
    store->record_failure(first[0].id, {10'000, 503, "HTTP 503"}, 20'000, done);
  }));
  succeed(*store, first[1]);
  CHECK(due_sync(*store, 15'000).empty());  // a1 backs off; a2 is not taken past it
  auto retry = due_sync(*store, 20'000);
  CHECK(ids_of(retry) == std::vector<std::string>{"a1@http://a"});
  REQUIRE(wait_status([&](auto done) { store->dead_letter(retry[0].id, {20'000, 410, "gone"}, done); }));
  CHECK(ids_of(due_sync(*store, 20'000)) == std::vector<std::string>{"a2@http://a"});
}

TEST_CASE("store backends: spool order is per URL, and per route", "[store][backend][order]") {
  BackendHarness harness(GENERATE(as<std::string>{}, "sqlite", "redis"));
  INFO(harness.kind());
  auto store = harness.open();
  REQUIRE(store->wait_open());
  REQUIRE(append_sync(*store, ordered("a1", "k", {"http://a", "http://b"})));
  REQUIRE(append_sync(*store, ordered("a2", "k", {"http://a", "http://b"})));
  REQUIRE(append_sync(*store, ordered("x1", "k", {"http://a"}, "other")));
  auto first = due_sync(*store);
  REQUIRE(ids_of(first) == std::vector<std::string>{"a1@http://a", "a1@http://b", "x1@http://a"});
  succeed(*store, first[1]);  // URL b took a1: its a2 may go, URL a's may not
  CHECK(ids_of(due_sync(*store)) == std::vector<std::string>{"a2@http://b"});
}

TEST_CASE("store backends: spool order survives a restart", "[store][backend][order]") {
  BackendHarness harness(GENERATE(as<std::string>{}, "sqlite", "redis"));
  INFO(harness.kind());
  {
    auto store = harness.open("first");
    REQUIRE(store->wait_open());
    REQUIRE(append_sync(*store, ordered("a1", "conv-a")));
    REQUIRE(append_sync(*store, ordered("a2", "conv-a")));
    REQUIRE(due_sync(*store).size() == 1);  // a1 claimed when it stops, its POST unanswered
  }
  auto store = harness.open("second");
  REQUIRE(store->wait_open());
  std::vector<DueDelivery> again;
  CHECK(eventually([&] { return !(again = due_sync(*store)).empty(); }));
  CHECK(ids_of(again) == std::vector<std::string>{"a1@http://a"});
}

TEST_CASE("store backends: a replayed dead letter goes before the later ones of its key",
          "[store][backend][order]") {
  BackendHarness harness(GENERATE(as<std::string>{}, "sqlite", "redis"));
  INFO(harness.kind());
  auto store = harness.open();
  REQUIRE(store->wait_open());
  REQUIRE(append_sync(*store, ordered("a1", "conv-a")));
  REQUIRE(append_sync(*store, ordered("a2", "conv-a")));
  REQUIRE(append_sync(*store, ordered("a3", "conv-a")));
  auto first = due_sync(*store, 10'000);
  REQUIRE(wait_status([&](auto done) { store->dead_letter(first[0].id, {10'000, 410, "gone"}, done); }));
  auto second = due_sync(*store, 10'000);
  REQUIRE(ids_of(second) == std::vector<std::string>{"a2@http://a"});
  REQUIRE(wait_status([&](auto done) {
    store->record_failure(second[0].id, {10'000, 503, "HTTP 503"}, 30'000, done);
  }));
  auto replayed = harness.replay(first[0].id, 11'000);
  REQUIRE(replayed);
  REQUIRE(replayed.value() == std::vector<int64_t>{first[0].id});
  // a1 is pending again, ahead of a2 (which waits for its retry) and a3.
  CHECK(ids_of(due_sync(*store, 11'000)) == std::vector<std::string>{"a1@http://a"});
}

TEST_CASE("store backends: spool list, replay and purge of dead letters", "[store][backend]") {
  BackendHarness harness(GENERATE(as<std::string>{}, "sqlite", "redis"));
  INFO(harness.kind());
  auto store = harness.open();
  REQUIRE(append_sync(*store, entry("e1", {"http://a", "http://b"})));
  REQUIRE(append_sync(*store, entry("e2", {"http://a"})));
  auto due = due_sync(*store, 1'000);
  REQUIRE(due.size() == 3);
  REQUIRE(wait_status([&](auto done) { store->dead_letter(due[0].id, {1'100, 410, "gone"}, done); }));
  REQUIRE(wait_status([&](auto done) { store->dead_letter(due[2].id, {1'100, 410, "gone"}, done); }));
  store->release(due[1].id);

  auto rows = harness.with_queries([](SpoolQueries& q) { return q.deliveries(); });
  REQUIRE(rows);
  REQUIRE(rows.value().size() == 3);
  CHECK(rows.value()[0].state == "dead");  // dead letters first, by id
  CHECK(rows.value()[0].id == due[0].id);
  CHECK(rows.value()[1].state == "dead");
  CHECK(rows.value()[2].state == "pending");
  CHECK(rows.value()[2].url == "http://b");

  auto purged = harness.with_queries([&](SpoolQueries& q) { return q.purge({due[2].id, "", 0}); });
  REQUIRE(purged);
  CHECK(purged.value() == std::vector<int64_t>{due[2].id});
  auto replayed = harness.with_queries([](SpoolQueries& q) { return q.replay({0, "orders", 0}, 2'000); });
  REQUIRE(replayed);
  CHECK(replayed.value() == std::vector<int64_t>{due[0].id});
  auto now_due = due_sync(*store, 2'000);
  CHECK(now_due.size() == 2);  // the replayed one and the released one
}
