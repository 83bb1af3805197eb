// store::SharedDedupStore over a fake Backend: every question is a claim, the answers come
// back through `post`, outcomes are kept in PersistentDedupStore's encoding.
#include <catch2/catch.hpp>

#include <optional>

#include "store/dedup_for_backend.hpp"
#include "store/persistent_dedup.hpp"
#include "store/shared_dedup.hpp"

using namespace dsb;
using namespace dsb::store;
using bridge::DedupAnswer;
using bridge::DeliveredOutcome;

namespace {

// Only the dedup part is asked for; the spool part is never called here.
class FakeBackend : public Backend {
 public:
  struct Claim {
    std::string key;
    int64_t since_ms;
    int64_t lease_ms;
    std::function<void(Result<DedupClaim>)> done;
  };
  std::string_view name() const override { return "fake"; }
  Status wait_open() override { return Status::ok(); }
  bool writable() const override { return true; }
  std::string unwritable_reason() const override { return {}; }
  void append(SpoolEntry, std::function<void(Status)> done) override { done(Status::ok()); }
  void due(int64_t, size_t, std::function<void(std::vector<DueDelivery>)> done) override { done({}); }
  void record_success(int64_t, Attempt, std::function<void(Status)>) override {}
  void record_failure(int64_t, Attempt, int64_t, std::function<void(Status)>) override {}
  void dead_letter(int64_t, Attempt, std::function<void(Status)>) override {}
  void release(int64_t) override {}
  SpoolCounts counts() const override { return {}; }
  size_t unrecorded_outcomes() const override { return 0; }
  std::map<std::string, int64_t> oldest_pending() const override { return {}; }

  void remember_dedup(DedupRecord record) override { remembered.push_back(std::move(record)); }
  void find_dedup(std::string, int64_t, std::function<void(std::optional<DedupRecord>)> done) override {
    done(std::nullopt);
  }
  void claim_dedup(std::string key, int64_t since_ms, int64_t lease_ms,
                   std::function<void(Result<DedupClaim>)> done) override {
    claims.push_back({std::move(key), since_ms, lease_ms, std::move(done)});
  }
  void release_dedup(std::string key) override { released.push_back(std::move(key)); }

  std::vector<Claim> claims;
  std::vector<DedupRecord> remembered;
  std::vector<std::string> released;
};

struct Fixture {
  FakeBackend backend;
  std::vector<std::function<void()>> posted;  // the relay's thread, run by the test
  SharedDedupStore dedup{backend, /*window_ms=*/60'000, /*lease_ms=*/30'000,
                         [this](std::function<void()> task) { posted.push_back(std::move(task)); }};

  // Asks, lets the backend answer `claim`, then runs what was posted.
  std::optional<DedupAnswer> ask(Result<DedupClaim> claim, int64_t claim_ms = 0) {
    std::optional<DedupAnswer> answer;
    dedup.find("event:e1", 100'000, claim_ms, [&answer](DedupAnswer a) { answer = std::move(a); });
    REQUIRE(backend.claims.size() == 1);
    backend.claims[0].done(std::move(claim));
    CHECK_FALSE(answer.has_value());  // not on the backend's thread
    for (auto& task : posted) task();
    posted.clear();
    return answer;
  }
};

DedupClaim claim_of(DedupClaim::State state, DedupRecord record = {}) {
  DedupClaim claim;
  claim.state = state;
  claim.record = std::move(record);
  return claim;
}

}  // namespace

TEST_CASE("shared dedup store: a claim that is ours answers fresh", "[store][shared_dedup]") {
  Fixture f;
  auto answer = f.ask(claim_of(DedupClaim::State::mine));
  REQUIRE(answer);
  CHECK(answer->state == DedupAnswer::State::fresh);
  CHECK(f.backend.claims[0].key == "event:e1");
  CHECK(f.backend.claims[0].since_ms == 100'000 - 60'000);  // the dedup window
}

TEST_CASE("shared dedup store: the lease is store.lease or the delivery's time, the longer",
          "[store][shared_dedup]") {
  SECTION("short delivery") {
    Fixture f;
    f.ask(claim_of(DedupClaim::State::mine), 7'500);
    CHECK(f.backend.claims[0].lease_ms == 30'000);
  }
  SECTION("long delivery") {
    Fixture f;
    f.ask(claim_of(DedupClaim::State::mine), 62'500);
    CHECK(f.backend.claims[0].lease_ms == 62'500);
  }
}

TEST_CASE("shared dedup store: another replica's claim answers elsewhere", "[store][shared_dedup]") {
  Fixture f;
  auto answer = f.ask(claim_of(DedupClaim::State::elsewhere));
  REQUIRE(answer);
  CHECK(answer->state == DedupAnswer::State::elsewhere);
}

TEST_CASE("shared dedup store: a record answers delivered, decoded as the SQLite store keeps it",
          "[store][shared_dedup]") {
  DeliveredOutcome partial;
  partial.complete = false;
  partial.delivered_urls = {"http://w/a", "http://w/\"b\""};
  DeliveredOutcome replied;
  replied.reply = R"({"x":1})";
  for (const DeliveredOutcome& outcome : {DeliveredOutcome{}, partial, replied}) {
    Fixture f;
    auto answer = f.ask(claim_of(DedupClaim::State::delivered,
                                 PersistentDedupStore::encode("event:e1", outcome, 5)));
    REQUIRE(answer);
    CHECK(answer->state == DedupAnswer::State::delivered);
    CHECK(answer->earlier.complete == outcome.complete);
    CHECK(answer->earlier.reply == outcome.reply);
    CHECK(answer->earlier.delivered_urls == outcome.delivered_urls);
  }
}

TEST_CASE("shared dedup store: a store that cannot answer says fresh", "[store][shared_dedup]") {
  Fixture f;
  auto answer = f.ask(Result<DedupClaim>::error("connection refused"));
  REQUIRE(answer);
  CHECK(answer->state == DedupAnswer::State::fresh);
}

TEST_CASE("shared dedup store: remember writes the record, release gives the claim up",
          "[store][shared_dedup]") {
  Fixture f;
  DeliveredOutcome replied;
  replied.reply = R"({"x":1})";
  f.dedup.remember("frame:c1", replied, 1234);
  REQUIRE(f.backend.remembered.size() == 1);
  const DedupRecord expected = PersistentDedupStore::encode("frame:c1", replied, 1234);
  CHECK(f.backend.remembered[0].key == expected.key);
  CHECK(f.backend.remembered[0].code == expected.code);
  CHECK(f.backend.remembered[0].data == expected.data);
  CHECK(f.backend.remembered[0].remembered_at_ms == 1234);
  CHECK(f.backend.released.empty());
  f.dedup.release("event:e1");
  CHECK(f.backend.released == std::vector<std::string>{"event:e1"});
}

TEST_CASE("the daemon's dedup store with store.backend redis asks the shared store",
          "[store][shared_dedup]") {
  FakeBackend backend;
  config::Config config;
  config.store.backend = config::StoreBackend::redis;
  config.store.lease = std::chrono::milliseconds(45'000);
  DedupForBackend dedup(config, backend, [](std::function<void()> task) { task(); });
  CHECK(dynamic_cast<SharedDedupStore*>(&dedup.get()) != nullptr);
  dedup.load(0);  // nothing to load
  std::optional<DedupAnswer> answer;
  dedup.get().find("event:e1", 100'000, 0, [&answer](DedupAnswer a) { answer = std::move(a); });
  REQUIRE(backend.claims.size() == 1);
  CHECK(backend.claims[0].lease_ms == 45'000);  // store.lease
  backend.claims[0].done(claim_of(DedupClaim::State::elsewhere));
  REQUIRE(answer);
  CHECK(answer->state == DedupAnswer::State::elsewhere);
  CHECK(dedup.store_lookups() == 1);
}
