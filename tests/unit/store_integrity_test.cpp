// The store against what happens to its files while it runs: outcomes it cannot commit
// (disk full), state_dir removed or replaced, a second process on the same state_dir, file
// modes under a permissive umask; and the oldest-pending ages it reports.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "store/database.hpp"
#include "store/state_lock.hpp"
#include "store/store.hpp"
#include "support/store_helpers.hpp"

using namespace dsb::store;
using namespace dsb::test;
using dsb::Status;

namespace {

int mode_of(const std::string& path) {
  struct stat st{};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<int>(st.st_mode & 0777);
}

}  // namespace

TEST_CASE("store integrity: an outcome that cannot be committed keeps its claim until it is",
          "[store][fault]") {
  TempDir dir;
  std::atomic<bool> disk_full{false};
  StoreOptions o = options_for(dir.state());
  o.fault = [&disk_full] {
    return disk_full ? Status::error("database or disk is full") : Status::ok();
  };
  Store store(o);
  REQUIRE(append_sync(store, spool_entry("s1")));
  REQUIRE(append_sync(store, spool_entry("f1")));
  const auto due = due_sync(store);
  REQUIRE(due.size() == 2);

  disk_full = true;
  CHECK_FALSE(wait_status([&](auto done) { store.record_success(due[0].id, {}, done); }));
  CHECK_FALSE(wait_status([&](auto done) {
    store.record_failure(due[1].id, {0, 503, "webhook returned 503"}, 20'000, done);
  }));
  CHECK(store.unrecorded_outcomes() == 2);
  CHECK_FALSE(store.writable());
  // Neither is handed out again: the success would be POSTed again, the failure retried
  // before its backoff.
  CHECK(due_sync(store).empty());

  disk_full = false;  // space returns: committed on the store's own retry, no request needed
  CHECK(eventually([&] { return store.unrecorded_outcomes() == 0; }));
  CHECK(store.writable());
  CHECK(due_sync(store, 19'999).empty());
  const auto later = due_sync(store, 20'000);  // the failure, at the time it was given
  REQUIRE(later.size() == 1);
  CHECK(later[0].id == due[1].id);
  CHECK(later[0].attempts == 1);
  CHECK(store.counts().pending == 1);
}

TEST_CASE("store integrity: the database, its -wal and -shm and the lock are 0600 under umask "
          "000", "[store]") {
  TempDir dir;
  const mode_t before = ::umask(0);
  {
    Store store(options_for(dir.state()));
    REQUIRE(store.wait_open());
    REQUIRE(append_sync(store, spool_entry("u1")));
    const std::string db = database_path(dir.state());
    CHECK(mode_of(db) == 0600);
    CHECK(mode_of(db + "-wal") == 0600);
    CHECK(mode_of(db + "-shm") == 0600);
    CHECK(mode_of(lock_path(dir.state())) == 0600);
  }
  ::umask(before);
}

TEST_CASE("store integrity: a second store on one state_dir is locked out, naming the holder",
          "[store]") {
  TempDir dir;
  auto first = std::make_unique<Store>(options_for(dir.state()));
  REQUIRE(first->wait_open());
  CHECK_FALSE(first->locked_out());

  Store second(options_for(dir.state()));
  const Status refused = second.wait_open();
  REQUIRE_FALSE(refused);
  CHECK(second.locked_out());
  CHECK_THAT(refused.message(),
             Catch::Contains("in use by another bridge (PID " + std::to_string(::getpid())));
  CHECK_FALSE(second.writable());
  CHECK_FALSE(append_sync(second, spool_entry("l1")));

  first.reset();  // the holder stops: the other one gets the store on its next attempt
  CHECK(eventually([&] { return second.writable(); }));
  CHECK_FALSE(second.locked_out());
  CHECK(append_sync(second, spool_entry("l2")));
}

TEST_CASE("store integrity: a state_dir removed while running is noticed before a commit, and "
          "the store is written back when the directory returns", "[store][fault]") {
  TempDir dir;
  Store store(options_for(dir.state()));
  REQUIRE(append_sync(store, spool_entry("before")));
  std::filesystem::remove_all(dir.state());

  const Status lost = append_sync(store, spool_entry("while-gone"));
  REQUIRE_FALSE(lost);  // SQLite would have committed it to the unlinked file
  CHECK_THAT(lost.message(), Catch::Contains("state_dir " + dir.state() + " was removed"));
  CHECK_FALSE(store.writable());
  CHECK_THAT(store.unwritable_reason(), Catch::Contains("recreate it"));
  CHECK_THAT(store.unwritable_reason(), Catch::Contains("restart"));
  CHECK_FALSE(std::filesystem::exists(dir.state()));  // not recreated behind the operator

  REQUIRE(std::filesystem::create_directory(dir.state()));
  CHECK(eventually([&] { return store.writable(); }));
  CHECK(mode_of(database_path(dir.state())) == 0600);
  const auto due = due_sync(store);
  REQUIRE(due.size() == 1);
  CHECK(due[0].dedup_key == "event:before");
  REQUIRE(wait_status([&](auto done) { store.record_success(due[0].id, {}, done); }));
  CHECK(append_sync(store, spool_entry("after")));
  CHECK(store.counts().pending == 1);
}

TEST_CASE("store integrity: a bridge.db removed alone is written back at once", "[store][fault]") {
  TempDir dir;
  Store store(options_for(dir.state()));
  REQUIRE(append_sync(store, spool_entry("kept")));
  std::filesystem::remove(database_path(dir.state()));
  CHECK(eventually([&] { return std::filesystem::exists(database_path(dir.state())); }));
  CHECK(eventually([&] { return store.writable(); }));
  CHECK(append_sync(store, spool_entry("next")));
  CHECK(due_sync(store).size() == 2);
}

TEST_CASE("store integrity: a bridge.db replaced while running is left alone, the reason says "
          "to restart", "[store][fault]") {
  TempDir dir;
  Store store(options_for(dir.state()));
  REQUIRE(append_sync(store, spool_entry("old")));
  const std::string db = database_path(dir.state());
  std::filesystem::remove(db);
  std::filesystem::remove(db + "-wal");
  std::filesystem::remove(db + "-shm");
  { std::ofstream(db) << ""; }  // the operator's own (empty) database, say from a backup
  CHECK(eventually([&] { return !store.writable(); }));
  CHECK_THAT(store.unwritable_reason(), Catch::Contains("was replaced while running"));
  CHECK_THAT(store.unwritable_reason(), Catch::Contains("restart the bridge"));
  CHECK_FALSE(append_sync(store, spool_entry("refused")));
  CHECK(std::filesystem::file_size(db) == 0);  // not overwritten
}

TEST_CASE("store integrity: the oldest pending delivery of each route, read periodically",
          "[store]") {
  TempDir dir;
  Store store(options_for(dir.state()));
  CHECK(store.oldest_pending().empty());
  SpoolEntry other = spool_entry("b1", 3'000);
  other.route = "billing";
  REQUIRE(append_sync(store, spool_entry("o1", 2'000)));
  REQUIRE(append_sync(store, spool_entry("o2", 1'500)));
  REQUIRE(append_sync(store, std::move(other)));
  CHECK(eventually([&] { return store.oldest_pending().size() == 2; }));
  CHECK(store.oldest_pending().at("orders") == 1'500);
  CHECK(store.oldest_pending().at("billing") == 3'000);

  for (const auto& d : due_sync(store))  // everything delivered: no age left at once
    REQUIRE(wait_status([&](auto done) { store.record_success(d.id, {}, done); }));
  CHECK(store.oldest_pending().empty());
}
