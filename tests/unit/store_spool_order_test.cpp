// The spool's order_by (product.md section 10), SQLite only: old schemas and the order
// index. The order itself, for both backends, is in store_backend_test.cpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "store/database.hpp"
#include "store/spool_queries.hpp"
#include "store/store.hpp"
#include "support/store_helpers.hpp"

using namespace dsb::store;
using namespace dsb::test;
using dsb::Status;

namespace {

std::vector<std::string> ids_of(const std::vector<DueDelivery>& due) {
  std::vector<std::string> out;
  for (const auto& d : due) out.push_back(std::string(d.frame.header("eventId")) + "@" + d.url);
  return out;
}

}  // namespace

TEST_CASE("spool order: rows spooled before schema version 4 are unordered", "[store][order]") {
  TempDir dir;
  REQUIRE(ensure_state_dir(dir.state()));
  {
    OpenOptions v3;
    v3.target_version = 3;
    auto db = Database::open(database_path(dir.state()), v3);
    REQUIRE(db);
    REQUIRE(db.value()->exec(
        "INSERT INTO spool_frames (route, dedup_key, frame_type, headers, data, created_at) "
        "VALUES ('chat', 'event:o1', 'EVENT', '{\"eventId\":\"o1\"}', '{}', 100),"
        "('chat', 'event:o2', 'EVENT', '{\"eventId\":\"o2\"}', '{}', 100);"
        "INSERT INTO spool_deliveries (frame_id, url, queued_at, next_attempt_at, updated_at) "
        "VALUES (1, 'http://a', 100, 100, 100), (2, 'http://a', 100, 100, 100);"));
  }
  Store store(options_for(dir.state()));
  REQUIRE(store.wait_open());
  CHECK(ids_of(due_sync(store, 100)) == std::vector<std::string>{"o1@http://a", "o2@http://a"});
  auto db = Database::open(database_path(dir.state()));
  REQUIRE(db);
  CHECK(db.value()->schema_version() == 4);
}

TEST_CASE("spool order: due() seeks the order index, and stays quick with 10k pending rows",
          "[store][order]") {
  TempDir dir;
  {
    Store store(options_for(dir.state()));
    REQUIRE(store.wait_open());
  }
  auto db = Database::open(database_path(dir.state()));
  REQUIRE(db);
  // The plan SQLite picks for due()'s order check: the partial index, by key, URL and id.
  auto plan = db.value()->prepare(
      "EXPLAIN QUERY PLAN SELECT 1 FROM spool_deliveries e WHERE e.order_key = ?1 "
      "AND e.url = ?2 AND e.id < ?3 AND e.state = 'pending'");
  REQUIRE(plan);
  Status status = Status::ok();
  std::string details;
  while (plan->step(status)) details += plan->text(3) + "\n";
  INFO(details);
  CHECK(details.find("spool_deliveries_order (order_key=? AND url=? AND id<?)") != std::string::npos);

  // 10k pending rows: 9,900 queued behind 100 heads (100 keys), due at once. Not a timed
  // assertion: the figure is printed for bench/README's note.
  REQUIRE(db.value()->exec("BEGIN"));
  auto frame = db.value()->prepare(
      "INSERT INTO spool_frames (route, dedup_key, frame_type, headers, data, created_at) "
      "VALUES ('chat', ?1, 'EVENT', '{}', '{}', 100)");
  auto row = db.value()->prepare(
      "INSERT INTO spool_deliveries (frame_id, url, queued_at, next_attempt_at, updated_at, "
      "order_key) VALUES (?1, 'http://a', 100, 100, 100, ?2)");
  REQUIRE(frame);
  REQUIRE(row);
  for (int i = 0; i < 10'000; ++i) {
    frame->bind(1, "event:" + std::to_string(i));
    REQUIRE(frame->run());
    frame->reset();
    row->bind(1, db.value()->last_insert_id()).bind(2, "chat\x1f" + std::to_string(i % 100));
    REQUIRE(row->run());
    row->reset();
  }
  REQUIRE(db.value()->exec("COMMIT"));
  db.value().reset();

  Store store(options_for(dir.state()));
  REQUIRE(store.wait_open());
  const int64_t start = dsb::steady_ms();
  auto heads = due_sync(store, 1'000, 256);
  const int64_t elapsed = dsb::steady_ms() - start;
  CHECK(heads.size() == 100);  // one per key: the other 9,900 wait
  auto again_start = dsb::steady_ms();
  CHECK(due_sync(store, 1'000, 256).empty());  // every head claimed: a full scan, nothing out
  const int64_t again = dsb::steady_ms() - again_start;
  WARN("due() over 10k pending rows in 100 keys: " << elapsed << " ms handing out the heads, "
                                                   << again << " ms finding none");
}
