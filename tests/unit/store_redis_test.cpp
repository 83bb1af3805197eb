// The Redis backend's own behaviour, with a real redis-server: what several replicas
// sharing one Redis need (claims across instances, leases, dedup markers) and what Redis
// going away does. The behaviour both backends share is in store_backend_test.cpp.
#include <catch2/catch.hpp>

#include <future>

#include "store/redis_store.hpp"
#include "support/backend_harness.hpp"

using namespace dsb;
using namespace dsb::store;
using namespace dsb::test;

namespace {

RedisStoreOptions redis_options(const test::RedisServer& server, const std::string& replica,
                                int64_t lease_ms = 30'000) {
  RedisStoreOptions o;
  o.endpoint = server.endpoint();
  o.replica_id = replica;
  o.lease_ms = lease_ms;
  o.refresh_interval_ms = 100;
  o.connect_timeout_ms = 500;
  o.command_timeout_ms = 500;
  return o;
}

}  // namespace

TEST_CASE("redis store: claim_dedup is mine, elsewhere, then delivered across two replicas",
          "[store][redis]") {
  test::RedisServer server;
  RedisStore a(redis_options(server, "a"));
  RedisStore b(redis_options(server, "b"));
  REQUIRE(a.wait_open());
  REQUIRE(b.wait_open());

  auto first = claim_sync(a, "event:1");
  REQUIRE(first);
  CHECK(first->state == DedupClaim::State::mine);
  auto second = claim_sync(b, "event:1");
  REQUIRE(second);
  CHECK(second->state == DedupClaim::State::elsewhere);

  a.remember_dedup({"event:1", 200, "ok", 5'000});
  REQUIRE(test::eventually([&] { return find_sync(b, "event:1").has_value(); }));
  auto third = claim_sync(b, "event:1");
  REQUIRE(third);
  CHECK(third->state == DedupClaim::State::delivered);
  CHECK(third->record.code == 200);
  CHECK(third->record.data == "ok");
  CHECK(third->record.remembered_at_ms == 5'000);
}

TEST_CASE("redis store: a released claim lets the next arrival deliver, only the holder's release counts",
          "[store][redis]") {
  test::RedisServer server;
  RedisStore a(redis_options(server, "a"));
  RedisStore b(redis_options(server, "b"));
  REQUIRE(claim_sync(a, "event:2")->state == DedupClaim::State::mine);
  b.release_dedup("event:2");  // not b's: changes nothing
  CHECK(claim_sync(b, "event:2")->state == DedupClaim::State::elsewhere);
  a.release_dedup("event:2");  // a's thread, not b's: b sees it soon, not at once
  CHECK(test::eventually([&] { return claim_sync(b, "event:2")->state == DedupClaim::State::mine; }));
}

TEST_CASE("redis store: an in-flight marker lapses after its lease when its holder is gone",
          "[store][redis]") {
  test::RedisServer server;
  RedisStore b(redis_options(server, "b"));
  {
    RedisStore a(redis_options(server, "a"));
    REQUIRE(claim_sync(a, "event:3", 0, 300)->state == DedupClaim::State::mine);
  }  // a is gone without a release: its marker stops being renewed
  CHECK(claim_sync(b, "event:3", 0, 300)->state == DedupClaim::State::elsewhere);
  CHECK(test::eventually([&] { return claim_sync(b, "event:3")->state == DedupClaim::State::mine; }));
}

namespace {

SpoolEntry one_url(const std::string& id) {
  SpoolEntry e = spool_entry(id);
  e.urls = {"http://a"};
  return e;
}

}  // namespace

TEST_CASE("redis store: a live holder keeps its claims and in-flight markers past the lease by renewing them",
          "[store][redis][lease]") {
  test::RedisServer server;
  // A lease long enough that a loaded test machine still renews in time (every 333 ms).
  RedisStore a(redis_options(server, "a", 1'000));
  RedisStore b(redis_options(server, "b", 1'000));
  REQUIRE(append_sync(a, one_url("e1")));
  auto held = due_sync(a, 10'000);
  REQUIRE(held.size() == 1);
  REQUIRE(claim_sync(a, "event:e1", 0, 1'000)->state == DedupClaim::State::mine);
  // Leases later, a still renews both: b gets neither.
  std::this_thread::sleep_for(std::chrono::milliseconds(2'500));
  CHECK(claim_sync(b, "event:e1", 0, 1'000)->state == DedupClaim::State::elsewhere);
  CHECK(due_sync(b, 10'000).empty());
  CHECK(a.held_claims() == 1);
  REQUIRE(wait_status([&](auto done) { a.record_success(held[0].id, {1, 200, ""}, done); }));
  CHECK(a.held_claims() == 0);
  CHECK(due_sync(b, 10'000).empty());
}

TEST_CASE("redis store: a dead holder's claim is taken over after the lease, its late outcome "
          "changes nothing",
          "[store][redis][lease]") {
  test::RedisServer server;
  auto a = std::make_unique<RedisStore>(redis_options(server, "a", 300));
  RedisStore b(redis_options(server, "b", 300));
  REQUIRE(append_sync(*a, one_url("e1")));
  auto held = due_sync(*a, 10'000);
  REQUIRE(held.size() == 1);
  CHECK(due_sync(b, 10'000).empty());

  // a stops renewing (as a replica killed -9 would) but its outcome may still arrive later:
  // simulate with a second instance named like a, which does not know a's token.
  a.reset();
  std::vector<DueDelivery> taken;
  REQUIRE(eventually([&] { return !(taken = due_sync(b, 10'000)).empty(); }));
  REQUIRE(taken.size() == 1);
  CHECK(taken[0].id == held[0].id);

  RedisStore late(redis_options(server, "a", 300));
  REQUIRE(wait_status([&](auto done) { late.dead_letter(held[0].id, {1, 410, "late"}, done); }));
  REQUIRE(wait_status([&](auto done) {
    b.record_failure(taken[0].id, {2, 503, "HTTP 503"}, 20'000, done);
  }));
  late.refresh();
  CHECK(eventually([&] { return b.counts().pending == 1 && b.counts().dead == 0; }));
  auto retry = due_sync(b, 20'000);
  REQUIRE(retry.size() == 1);
  CHECK(retry[0].attempts == 1);  // b's failure only: the stale dead letter was ignored
}

TEST_CASE("redis store: Redis killed mid-way fails requests, reports unwritable, recovers "
          "after a restart with nothing lost",
          "[store][redis][fault]") {
  test::RedisServer server(/*appendonly=*/true);
  RedisStore store(redis_options(server, "a", 30'000));
  REQUIRE(store.wait_open());
  REQUIRE(append_sync(store, one_url("before")));
  auto held = due_sync(store, 10'000);
  REQUIRE(held.size() == 1);

  server.kill();
  // Appends fail (the relay ACKs LATER), never hang; due() answers empty; dedup errors.
  CHECK_FALSE(append_sync(store, one_url("during")));
  CHECK(due_sync(store, 10'000).empty());
  CHECK_FALSE(claim_sync(store, "event:x"));
  CHECK_FALSE(store.writable());
  CHECK_THAT(store.unwritable_reason(), Catch::Matchers::Contains("127.0.0.1"));
  // The outcome of the claimed delivery cannot be written: kept, not lost.
  CHECK_FALSE(wait_status([&](auto done) { store.record_success(held[0].id, {1, 200, ""}, done); }));
  CHECK(store.unrecorded_outcomes() == 1);

  REQUIRE(server.start());  // same port, the append-only file read back
  CHECK(eventually([&] { return store.writable(); }));
  CHECK(eventually([&] { return store.unrecorded_outcomes() == 0; }));
  REQUIRE(append_sync(store, one_url("after")));
  auto due = due_sync(store, 10'000);
  REQUIRE(due.size() == 1);  // "before" was delivered (its outcome written late), not again
  CHECK(due[0].frame.header("eventId") == "after");
}

TEST_CASE("redis store: completions run on the store's own thread, pipelined in batches",
          "[store][redis]") {
  test::RedisServer server;
  RedisStore store(redis_options(server, "a"));
  REQUIRE(store.wait_open());
  constexpr int kAppends = 2'000;
  std::atomic<int> ok{0};
  std::atomic<int> finished{0};
  std::promise<void> all;
  for (int i = 0; i < kAppends; ++i) {
    store.append(one_url("p" + std::to_string(i)), [&](dsb::Status s) {
      if (s) ++ok;
      if (++finished == kAppends) all.set_value();
    });
  }
  all.get_future().wait();
  CHECK(ok == kAppends);
  store.refresh();
  CHECK(eventually([&] { return store.counts().pending == kAppends; }));
  CHECK(due_sync(store, 10'000, 5'000).size() == size_t{kAppends});
}

TEST_CASE("redis store: a Redis slower than command_timeout fails requests, never blocks them",
          "[store][redis][fault]") {
  test::RedisServer server;
  RedisStoreOptions options = redis_options(server, "a");
  options.command_timeout_ms = 200;
  RedisStore store(options);
  REQUIRE(store.wait_open());
  {
    RedisConnection admin({server.endpoint()});
    REQUIRE(admin.ensure());
    auto paused = admin.command({"CLIENT", "PAUSE", "1500", "ALL"});  // every client waits
    REQUIRE(paused);
    REQUIRE_FALSE(paused->is_error());
  }
  const dsb::Status appended = append_sync(store, one_url("slow"));
  REQUIRE_FALSE(appended);
  CHECK_THAT(appended.message(), Catch::Matchers::Contains("timed out after 200 ms"));
  CHECK_FALSE(store.writable());
  // Once Redis answers again, so does the store, by itself.
  CHECK(eventually([&] { return store.writable() && append_sync(store, one_url("later")); }));
}

TEST_CASE("redis store: AUTH and SELECT from the endpoint, the password in no message",
          "[store][redis]") {
  test::RedisServer server;
  {
    RedisConnection admin({server.endpoint()});
    REQUIRE(admin.ensure());
    REQUIRE(admin.command({"CONFIG", "SET", "requirepass", "s3cret-PW"}));
  }
  RedisStoreOptions wrong = redis_options(server, "a");
  wrong.endpoint.password = "WRONG-PW";
  RedisStore refused(wrong);
  const dsb::Status opened = refused.wait_open();
  REQUIRE_FALSE(opened);
  CHECK_THAT(opened.message(), Catch::Matchers::Contains("AUTH refused"));
  CHECK(opened.message().find("WRONG-PW") == std::string::npos);
  CHECK(refused.unwritable_reason().find("WRONG-PW") == std::string::npos);

  RedisStoreOptions right = redis_options(server, "a");
  right.endpoint.password = "s3cret-PW";
  right.endpoint.db = 2;
  RedisStore store(right);
  REQUIRE(store.wait_open());
  REQUIRE(append_sync(store, one_url("db2")));
  RedisConnectionOptions check_options;
  check_options.endpoint = {"127.0.0.1", server.port(), "s3cret-PW", 2};
  RedisConnection check(check_options);
  REQUIRE(check.ensure());
  auto pending = check.command({"ZCARD", "dsb:pending"});
  REQUIRE(pending);
  CHECK(pending->as_int() == 1);
}

TEST_CASE("redis store: scripts flushed from the server are sent again (NOSCRIPT)",
          "[store][redis]") {
  test::RedisServer server;
  RedisStore store(redis_options(server, "a"));
  REQUIRE(append_sync(store, one_url("n1")));
  {
    RedisConnection admin({server.endpoint()});
    REQUIRE(admin.ensure());
    REQUIRE(admin.command({"SCRIPT", "FLUSH"}));
  }
  REQUIRE(append_sync(store, one_url("n2")));  // EVAL after NOSCRIPT
  REQUIRE(append_sync(store, one_url("n3")));  // loaded again: EVALSHA
  CHECK(due_sync(store, 10'000).size() == 3);
}
