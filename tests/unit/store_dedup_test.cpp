#include <catch2/catch.hpp>
#include <stdlib.h>

#include <filesystem>
#include <future>

#include "store/persistent_dedup.hpp"
#include "store/store.hpp"

using namespace dsb::store;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "dedup-test-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

StoreOptions options_for(const TempDir& dir, int64_t window_ms, int64_t* now) {
  StoreOptions o;
  o.state_dir = (dir.path / "state").string();
  o.dedup_window_ms = window_ms;
  o.wall_clock = [now] { return *now; };
  return o;
}

void maintain(Store& store) {
  std::promise<void> p;
  store.run_maintenance([&p] { p.set_value(); });
  p.get_future().get();
}

size_t stored_records(Store& store) {
  std::promise<size_t> p;
  store.load_dedup(0, [&p](std::vector<DedupRecord> r) { p.set_value(r.size()); });
  return p.get_future().get();
}

}  // namespace

TEST_CASE("persistent dedup: remembered outcomes survive a restart", "[store][dedup]") {
  TempDir dir;
  int64_t now = 1'000'000;
  {
    Store store(options_for(dir, 60'000, &now));
    PersistentDedupStore dedup(store, 60'000);
    dedup.load(now);
    CHECK_FALSE(dedup.find("event:e1", now));
    dedup.remember("event:e1", {200, R"({"status":"SUCCESS"})"}, now);
    dedup.remember("msg:m1", {200, ""}, now + 10);
    CHECK(dedup.find("event:e1", now + 1)->data == R"({"status":"SUCCESS"})");
  }  // the Store's destructor completes the write-behind before closing
  Store store(options_for(dir, 60'000, &now));
  PersistentDedupStore dedup(store, 60'000);
  dedup.load(now + 1'000);
  CHECK(dedup.size() == 2);
  auto found = dedup.find("event:e1", now + 1'000);
  REQUIRE(found);
  CHECK(found->code == 200);
  CHECK(found->data == R"({"status":"SUCCESS"})");
  CHECK(dedup.find("msg:m1", now + 1'000));
  // Still expires when it would have without the restart.
  CHECK_FALSE(dedup.find("event:e1", now + 60'001));
}

TEST_CASE("persistent dedup: a record remembered again keeps the latest outcome",
          "[store][dedup]") {
  TempDir dir;
  int64_t now = 5'000;
  {
    Store store(options_for(dir, 60'000, &now));
    PersistentDedupStore dedup(store, 60'000);
    dedup.remember("event:e1", {200, "first"}, now);
    dedup.remember("event:e1", {500, "second"}, now + 5);
  }
  Store store(options_for(dir, 60'000, &now));
  PersistentDedupStore dedup(store, 60'000);
  dedup.load(now + 10);
  CHECK(dedup.find("event:e1", now + 10)->data == "second");
  CHECK(dedup.size() == 1);
}

TEST_CASE("persistent dedup: rows older than the window are pruned and not loaded",
          "[store][dedup]") {
  TempDir dir;
  int64_t now = 100'000;
  Store store(options_for(dir, 10'000, &now));
  PersistentDedupStore dedup(store, 10'000);
  dedup.remember("event:old", {200, ""}, 100'000);
  dedup.remember("event:new", {200, ""}, 108'000);
  now = 109'000;
  maintain(store);
  CHECK(stored_records(store) == 2);  // both inside the window still
  now = 112'000;  // old is 12 s old, new 4 s
  maintain(store);
  CHECK(stored_records(store) == 1);

  PersistentDedupStore reloaded(store, 10'000);
  reloaded.load(now);
  CHECK_FALSE(reloaded.find("event:old", now));
  CHECK(reloaded.find("event:new", now));
}

TEST_CASE("persistent dedup: an unusable store leaves the in-memory window working",
          "[store][dedup]") {
  TempDir dir;
  const std::string blocker = (dir.path / "file").string();
  { std::FILE* f = std::fopen(blocker.c_str(), "w"); std::fclose(f); }
  StoreOptions o;
  o.state_dir = blocker + "/state";
  Store store(o);
  PersistentDedupStore dedup(store, 60'000);
  dedup.load(1'000);  // answers (empty) instead of hanging
  dedup.remember("event:e1", {200, ""}, 1'000);
  CHECK(dedup.find("event:e1", 2'000));
}
