// Two replicas' SharedDedupStores over two RedisStores on one real redis-server: the dedup
// answers the relay acts on (product.md section 12).
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <optional>

#include "common/clock.hpp"
#include "store/redis_store.hpp"
#include "store/shared_dedup.hpp"
#include "support/redis_server.hpp"
#include "support/store_helpers.hpp"

using namespace dsb;
using namespace dsb::store;
using bridge::DedupAnswer;
using State = bridge::DedupAnswer::State;

namespace {

// One replica: its RedisStore, and the relay's thread played by the test (answers are
// posted from the store thread and collected here).
class Replica {
 public:
  Replica(const test::RedisServer& server, const std::string& id, int64_t lease_ms)
      : redis_(options(server, id, lease_ms)),
        dedup_(redis_, /*window_ms=*/3'600'000, lease_ms,
               [this](std::function<void()> task) { post(std::move(task)); }) {
    REQUIRE(redis_.wait_open());
  }

  // Asks as the relay does and waits (up to 5 s) for the answer.
  DedupAnswer ask(const std::string& key) {
    std::optional<DedupAnswer> answer;
    dedup_.find(key, wall_ms(), /*claim_ms=*/0, [&answer](DedupAnswer a) { answer = std::move(a); });
    std::unique_lock lock(mutex_);
    REQUIRE(ready_.wait_for(lock, std::chrono::seconds(5), [this] { return !tasks_.empty(); }));
    auto task = std::move(tasks_.front());
    tasks_.clear();
    lock.unlock();
    task();
    REQUIRE(answer.has_value());
    return *answer;
  }
  SharedDedupStore& dedup() { return dedup_; }

 private:
  static RedisStoreOptions options(const test::RedisServer& server, const std::string& id,
                                   int64_t lease_ms) {
    RedisStoreOptions o;
    o.endpoint = server.endpoint();
    o.replica_id = id;
    o.lease_ms = lease_ms;
    o.refresh_interval_ms = 100;
    o.connect_timeout_ms = 500;
    o.command_timeout_ms = 500;
    return o;
  }
  void post(std::function<void()> task) {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
    ready_.notify_one();
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<std::function<void()>> tasks_;
  RedisStore redis_;
  SharedDedupStore dedup_;
};

}  // namespace

TEST_CASE("shared dedup on redis: mine, elsewhere, then delivered with the reply, across replicas",
          "[store][redis][shared_dedup]") {
  test::RedisServer server;
  Replica a(server, "a", 30'000);
  Replica b(server, "b", 30'000);
  CHECK(a.ask("frame:c1").state == State::fresh);
  CHECK(b.ask("frame:c1").state == State::elsewhere);

  bridge::DeliveredOutcome replied;
  replied.reply = R"({"ok":true})";
  a.dedup().remember("frame:c1", replied, wall_ms());
  REQUIRE(test::eventually([&] { return b.ask("frame:c1").state == State::delivered; }));
  const DedupAnswer found = b.ask("frame:c1");
  CHECK(found.earlier.complete);
  CHECK(found.earlier.reply == R"({"ok":true})");
  CHECK(a.ask("frame:c1").state == State::delivered);
}

TEST_CASE("shared dedup on redis: a partial delivery reads back with its URLs",
          "[store][redis][shared_dedup]") {
  test::RedisServer server;
  Replica a(server, "a", 30'000);
  Replica b(server, "b", 30'000);
  REQUIRE(a.ask("event:e1").state == State::fresh);
  bridge::DeliveredOutcome partial;
  partial.complete = false;
  partial.delivered_urls = {"http://w/a"};
  a.dedup().remember("event:e1", partial, wall_ms());
  REQUIRE(test::eventually([&] { return b.ask("event:e1").state == State::delivered; }));
  const DedupAnswer found = b.ask("event:e1");
  CHECK_FALSE(found.earlier.complete);
  CHECK(found.earlier.delivered_urls == std::vector<std::string>{"http://w/a"});
}

TEST_CASE("shared dedup on redis: a released claim lets the other replica deliver",
          "[store][redis][shared_dedup]") {
  test::RedisServer server;
  Replica a(server, "a", 30'000);
  Replica b(server, "b", 30'000);
  REQUIRE(a.ask("event:e2").state == State::fresh);
  REQUIRE(b.ask("event:e2").state == State::elsewhere);
  a.dedup().release("event:e2");
  REQUIRE(test::eventually([&] { return b.ask("event:e2").state == State::fresh; }));
  CHECK(a.ask("event:e2").state == State::elsewhere);  // now b's
}

TEST_CASE("shared dedup on redis: a dead replica's claim lapses after its lease",
          "[store][redis][shared_dedup]") {
  test::RedisServer server;
  Replica b(server, "b", 1'500);
  {
    Replica a(server, "a", 1'500);
    REQUIRE(a.ask("event:e3").state == State::fresh);
    REQUIRE(b.ask("event:e3").state == State::elsewhere);
  }  // a is gone without a release or a record: its claim is no longer renewed
  CHECK(b.ask("event:e3").state == State::elsewhere);  // not released: it lapses
  CHECK(test::eventually([&] { return b.ask("event:e3").state == State::fresh; }));
}
