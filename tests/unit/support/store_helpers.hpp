// A Store on a temporary directory, driven synchronously: its completions run on the store
// thread, these wrappers wait for them.
#pragma once

#include <catch2/catch.hpp>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "store/store.hpp"

namespace dsb::test {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "store-test-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    // A test may have taken the write bit away (a read-only state_dir).
    std::filesystem::permissions(path, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::add, ec);
    std::filesystem::remove_all(path, ec);
  }
  std::string state() const { return (path / "state").string(); }
};

// A store on `state_dir` that retries every 50 ms, so fault tests recover quickly.
inline store::StoreOptions options_for(const std::string& state_dir) {
  store::StoreOptions o;
  o.state_dir = state_dir;
  o.retry_interval_ms = 50;
  return o;
}

inline store::SpoolEntry spool_entry(const std::string& id, int64_t created = 1'000) {
  store::SpoolEntry e;
  e.route = "orders";
  e.dedup_key = "event:" + id;
  e.frame.type = stream::FrameType::event;
  e.frame.headers = {{"eventId", id}, {"eventType", "order_paid"}};
  e.frame.data = R"({"order":")" + id + R"("})";
  e.urls = {"http://a"};
  e.created_at_ms = created;
  return e;
}

// Runs `call` with a completion and waits for the Status it gets.
inline Status wait_status(const std::function<void(std::function<void(Status)>)>& call) {
  std::promise<Status> p;
  call([&p](Status s) { p.set_value(std::move(s)); });
  return p.get_future().get();
}

inline Status append_sync(store::Backend& store, store::SpoolEntry e) {
  return wait_status([&](auto done) { store.append(std::move(e), std::move(done)); });
}

inline std::vector<store::DueDelivery> due_sync(store::Backend& store, int64_t now = 10'000,
                                               size_t limit = 100) {
  std::promise<std::vector<store::DueDelivery>> p;
  store.due(now, limit, [&p](std::vector<store::DueDelivery> d) { p.set_value(std::move(d)); });
  return p.get_future().get();
}

template <typename Pred>
bool eventually(Pred pred, int timeout_ms = 5'000) {
  const int64_t end = steady_ms() + timeout_ms;
  while (steady_ms() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

}  // namespace dsb::test
