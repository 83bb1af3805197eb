#include <catch2/catch.hpp>
#include <stdlib.h>

#include <filesystem>
#include <condition_variable>
#include <future>
#include <mutex>

#include "store/persistent_dedup.hpp"
#include "store/store.hpp"

using namespace dsb;
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
  auto count = std::make_shared<size_t>(0);
  std::promise<size_t> p;
  store.scan_dedup(0, [count](const DedupRecord&) { ++*count; },
                   [&p, count](const dsb::Status&) { p.set_value(*count); });
  return p.get_future().get();
}

// The relay's thread, played by the test: answers posted from the store thread wait here.
class Inbox {
 public:
  PersistentDedupStore::Post post() {
    return [this](std::function<void()> task) {
      std::lock_guard lock(mutex_);
      tasks_.push_back(std::move(task));
      ready_.notify_one();
    };
  }
  // Runs posted tasks until one arrives or 5 s pass; returns how many ran.
  size_t run_one() {
    std::unique_lock lock(mutex_);
    if (!ready_.wait_for(lock, std::chrono::seconds(5), [this] { return !tasks_.empty(); })) return 0;
    auto task = std::move(tasks_.front());
    tasks_.erase(tasks_.begin());
    lock.unlock();
    task();
    return 1;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<std::function<void()>> tasks_;
};

// Asks and waits for the answer, whether memory or the store gives it.
std::optional<bridge::DeliveredOutcome> ask(PersistentDedupStore& dedup, Inbox& inbox,
                                            const std::string& key, int64_t now,
                                            bool* from_memory = nullptr) {
  std::optional<bridge::DedupAnswer> result;
  dedup.find(key, now, 0, [&result](bridge::DedupAnswer a) { result = std::move(a); });
  if (from_memory) *from_memory = result.has_value();
  while (!result && inbox.run_one() == 1) {
  }
  REQUIRE(result.has_value());
  REQUIRE(result->state != bridge::DedupAnswer::State::elsewhere);  // one replica: never
  if (result->state == bridge::DedupAnswer::State::fresh) return std::nullopt;
  return std::move(result->earlier);
}

bridge::DeliveredOutcome replied(std::string reply) {
  bridge::DeliveredOutcome outcome;
  outcome.reply = std::move(reply);
  return outcome;
}

bridge::DeliveredOutcome partial(std::vector<std::string> urls) {
  bridge::DeliveredOutcome outcome;
  outcome.complete = false;
  outcome.delivered_urls = std::move(urls);
  return outcome;
}

}  // namespace

TEST_CASE("persistent dedup: remembered outcomes survive a restart", "[store][dedup]") {
  TempDir dir;
  Inbox inbox;
  int64_t now = 1'000'000;
  {
    Store store(options_for(dir, 60'000, &now));
    PersistentDedupStore dedup(store, 60'000, inbox.post());
    dedup.load(now);
    CHECK_FALSE(ask(dedup, inbox, "event:e1", now));
    dedup.remember("event:e1", {}, now);
    dedup.remember("frame:c1", replied(R"({"a":1})"), now + 10);
    dedup.remember("event:e2", partial({"http://w/a"}), now + 20);
    bool from_memory = false;
    CHECK(ask(dedup, inbox, "event:e1", now + 1, &from_memory)->plain());
    CHECK(from_memory);
  }  // the Store's destructor completes the write-behind before closing
  Store store(options_for(dir, 60'000, &now));
  PersistentDedupStore dedup(store, 60'000, inbox.post());
  dedup.load(now + 1'000);
  bool from_memory = false;
  auto e1 = ask(dedup, inbox, "event:e1", now + 1'000, &from_memory);
  REQUIRE(e1);
  CHECK(e1->plain());
  CHECK(from_memory);  // plain outcomes need no read

  auto c1 = ask(dedup, inbox, "frame:c1", now + 1'000, &from_memory);
  REQUIRE(c1);
  CHECK_FALSE(from_memory);  // a reply is read from the store
  CHECK(c1->complete);
  CHECK(c1->reply == R"({"a":1})");

  auto e2 = ask(dedup, inbox, "event:e2", now + 1'000);
  REQUIRE(e2);
  CHECK_FALSE(e2->complete);
  CHECK(e2->delivered_urls == std::vector<std::string>{"http://w/a"});
  CHECK(dedup.store_lookups() == 2);

  // Still expires when it would have without the restart.
  CHECK_FALSE(ask(dedup, inbox, "event:e1", now + 61'001));
}

TEST_CASE("persistent dedup: a record remembered again keeps the latest outcome",
          "[store][dedup]") {
  TempDir dir;
  Inbox inbox;
  int64_t now = 5'000;
  {
    Store store(options_for(dir, 60'000, &now));
    PersistentDedupStore dedup(store, 60'000, inbox.post());
    dedup.remember("event:e1", partial({"http://w/a"}), now);
    dedup.remember("event:e1", {}, now + 5);
  }
  Store store(options_for(dir, 60'000, &now));
  PersistentDedupStore dedup(store, 60'000, inbox.post());
  dedup.load(now + 10);
  bool from_memory = false;
  CHECK(ask(dedup, inbox, "event:e1", now + 10, &from_memory)->plain());
  CHECK(from_memory);
  CHECK(stored_records(store) == 1);
}

TEST_CASE("persistent dedup: rows older than the window are pruned and not loaded",
          "[store][dedup]") {
  TempDir dir;
  Inbox inbox;
  int64_t now = 100'000;
  Store store(options_for(dir, 10'000, &now));
  PersistentDedupStore dedup(store, 10'000, inbox.post());
  dedup.remember("event:old", {}, 100'000);
  dedup.remember("event:new", {}, 108'000);
  now = 109'000;
  maintain(store);
  CHECK(stored_records(store) == 2);  // both inside the window still
  now = 112'000;  // old is 12 s old, new 4 s
  maintain(store);
  CHECK(stored_records(store) == 1);

  PersistentDedupStore reloaded(store, 10'000, inbox.post());
  reloaded.load(now);
  CHECK_FALSE(ask(reloaded, inbox, "event:old", now));
  CHECK(ask(reloaded, inbox, "event:new", now));
}

TEST_CASE("persistent dedup: an index too small for the window asks the store, loses nothing",
          "[store][dedup]") {
  TempDir dir;
  Inbox inbox;
  int64_t now = 1'000'000;
  Store store(options_for(dir, 3'600'000, &now));
  PersistentDedupStore dedup(store, 3'600'000, inbox.post(), /*index_bucket_bits=*/1);  // 16 ids
  const int n = 200;
  for (int i = 0; i < n; ++i) dedup.remember("event:" + std::to_string(i), {}, now + i);
  CHECK(dedup.index().evictions() > 0);
  for (int i = 0; i < n; ++i) {
    auto found = ask(dedup, inbox, "event:" + std::to_string(i), now + n);
    REQUIRE(found);
    CHECK(found->plain());
  }
  CHECK(dedup.store_lookups() > 0);
  CHECK_FALSE(ask(dedup, inbox, "event:never", now + n));
}

TEST_CASE("persistent dedup: rows of earlier versions read as complete, per-URL rows ignored",
          "[store][dedup]") {
  TempDir dir;
  Inbox inbox;
  int64_t now = 50'000;
  Store store(options_for(dir, 60'000, &now));
  // What version 0.x wrote: the ACK's data for events, an extra row per URL.
  store.remember_dedup({"event:e1", 200, R"({"status":"SUCCESS","message":"success"})", now});
  store.remember_dedup({"event:e1\nhttp://w/a", 200, "", now});
  PersistentDedupStore dedup(store, 60'000, inbox.post());
  dedup.load(now);
  auto e1 = ask(dedup, inbox, "event:e1", now);
  REQUIRE(e1);
  CHECK(e1->complete);
  CHECK_FALSE(ask(dedup, inbox, "event:e1\nhttp://w/b", now));
}

TEST_CASE("persistent dedup: an unusable store still answers plain outcomes from memory",
          "[store][dedup]") {
  TempDir dir;
  Inbox inbox;
  const std::string blocker = (dir.path / "file").string();
  { std::FILE* f = std::fopen(blocker.c_str(), "w"); std::fclose(f); }
  StoreOptions o;
  o.state_dir = blocker + "/state";
  Store store(o);
  PersistentDedupStore dedup(store, 60'000, inbox.post());
  dedup.load(1'000);  // answers (empty) instead of hanging
  dedup.remember("event:e1", {}, 1'000);
  dedup.remember("frame:c1", replied("{}"), 1'000);
  CHECK(ask(dedup, inbox, "event:e1", 2'000));
  // The reply cannot be read: not found, so the callback is delivered again, not lost.
  CHECK_FALSE(ask(dedup, inbox, "frame:c1", 2'000));
}
