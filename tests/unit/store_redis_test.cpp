// The Redis backend's own behaviour, with a real redis-server: what several replicas
// sharing one Redis need (claims across instances, leases, dedup markers) and what Redis
// going away does. The behaviour both backends share is in store_backend_test.cpp.
#include <catch2/catch.hpp>

#include <future>

#include "store/redis_store.hpp"
#include "support/redis_server.hpp"
#include "support/store_helpers.hpp"

using namespace dsb;
using namespace dsb::store;

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

Result<DedupClaim> claim_sync(Backend& store, const std::string& key, int64_t lease_ms = 30'000) {
  std::promise<Result<DedupClaim>> p;
  store.claim_dedup(key, 0, lease_ms, [&p](Result<DedupClaim> c) { p.set_value(std::move(c)); });
  return p.get_future().get();
}

std::optional<DedupRecord> find_sync(Backend& store, const std::string& key) {
  std::promise<std::optional<DedupRecord>> p;
  store.find_dedup(key, 0, [&p](std::optional<DedupRecord> r) { p.set_value(std::move(r)); });
  return p.get_future().get();
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
    REQUIRE(claim_sync(a, "event:3", 300)->state == DedupClaim::State::mine);
  }  // a is gone without a release: its marker stops being renewed
  CHECK(claim_sync(b, "event:3", 300)->state == DedupClaim::State::elsewhere);
  CHECK(test::eventually([&] { return claim_sync(b, "event:3")->state == DedupClaim::State::mine; }));
}
