// One store backend under test, by name ("sqlite" or "redis"), for the suites that run
// against both (store_backend_test.cpp): opens the backend (again) on the same data (a
// temporary state_dir, or a real redis-server of its own), and replays dead letters the way
// the `spool` command does.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "store/backend.hpp"
#include "store/database.hpp"
#include "store/redis_connection.hpp"
#include "store/redis_spool_queries.hpp"
#include "store/redis_store.hpp"
#include "store/spool_queries.hpp"
#include "store/store.hpp"
#include "redis_server.hpp"
#include "store_helpers.hpp"

namespace dsb::test {

class BackendHarness {
 public:
  // Redis claims are leases: short here, so a "restarted" backend gets them back soon.
  static constexpr int64_t kLeaseMs = 300;

  explicit BackendHarness(std::string kind) : kind_(std::move(kind)) {
    if (kind_ == "redis") redis_ = std::make_unique<RedisServer>();
    else dir_.emplace();
  }

  const std::string& kind() const { return kind_; }
  bool is_redis() const { return kind_ == "redis"; }
  RedisServer& redis() { return *redis_; }

  std::unique_ptr<store::Backend> open(const std::string& replica = "r1",
                                       int64_t dedup_window_ms = 3'600'000) {
    if (is_redis()) {
      store::RedisStoreOptions o;
      o.endpoint = redis_->endpoint();
      o.replica_id = replica;
      o.lease_ms = kLeaseMs;
      o.dedup_window_ms = dedup_window_ms;
      o.refresh_interval_ms = 50;
      o.retry_interval_ms = 50;
      o.connect_timeout_ms = 500;
      o.command_timeout_ms = 500;
      return std::make_unique<store::RedisStore>(std::move(o));
    }
    store::StoreOptions o = options_for(dir_->state());
    o.dedup_window_ms = dedup_window_ms;
    return std::make_unique<store::Store>(std::move(o));
  }

  template <typename F>
  auto with_queries(F f) {
    if (is_redis()) {
      store::RedisConnection connection({redis_->endpoint()});
      REQUIRE(connection.ensure());
      store::RedisSpoolQueries queries(connection, "dsb:");
      return f(queries);
    }
    auto db = store::Database::open(store::database_path(dir_->state()));
    REQUIRE(db);
    struct Sqlite final : store::SpoolQueries {
      store::Database& db;
      explicit Sqlite(store::Database& d) : db(d) {}
      Result<std::vector<store::DeliveryRow>> deliveries() override { return store::read_deliveries(db); }
      Result<std::optional<store::DeliveryDetail>> delivery(int64_t id) override {
        return store::read_delivery(db, id);
      }
      Result<std::vector<int64_t>> replay(const store::DeadLetterSelection& w, int64_t now) override {
        return store::replay_dead_letters(db, w, now);
      }
      Result<std::vector<int64_t>> purge(const store::DeadLetterSelection& w) override {
        return store::purge_dead_letters(db, w);
      }
    } queries(*db.value());
    return f(queries);
  }

  // What `spool replay --id` does, on this backend's data.
  Result<std::vector<int64_t>> replay(int64_t id, int64_t now_ms) {
    return with_queries([&](store::SpoolQueries& q) { return q.replay({id, "", 0}, now_ms); });
  }

 private:
  std::string kind_;
  std::optional<TempDir> dir_;
  std::unique_ptr<RedisServer> redis_;
};

// Synchronous helpers on any backend.
inline Result<store::DedupClaim> claim_sync(store::Backend& backend, const std::string& key,
                                            int64_t since_ms = 0, int64_t lease_ms = 30'000) {
  std::promise<Result<store::DedupClaim>> p;
  backend.claim_dedup(key, since_ms, lease_ms,
                      [&p](Result<store::DedupClaim> c) { p.set_value(std::move(c)); });
  return p.get_future().get();
}

inline std::optional<store::DedupRecord> find_sync(store::Backend& backend, const std::string& key,
                                                   int64_t since_ms = 0) {
  std::promise<std::optional<store::DedupRecord>> p;
  backend.find_dedup(key, since_ms,
                     [&p](std::optional<store::DedupRecord> r) { p.set_value(std::move(r)); });
  return p.get_future().get();
}

}  // namespace dsb::test
