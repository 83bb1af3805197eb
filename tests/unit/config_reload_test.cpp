// SIGHUP's off-loop config load (bridge/config_reload.hpp) with a fake load the test holds
// and releases, and a fake loop: posted tasks wait in a queue until the test runs them.
#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "bridge/config_reload.hpp"

using namespace dsb;
using bridge::ConfigReload;

namespace {

constexpr auto kBound = std::chrono::seconds(10);  // a bound on waits, not a speed check

// Shared with the worker thread, which may outlive a test case (a detached, stuck load).
struct Fake {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> loads_started;
  std::vector<std::thread::id> load_threads;
  int releases = 0;  // loads allowed to return
  int returned = 0;
  std::deque<std::function<void()>> posted;

  config::LoadResult load(const std::string& path) {
    std::unique_lock lock(mutex);
    loads_started.push_back(path);
    load_threads.push_back(std::this_thread::get_id());
    const int mine = static_cast<int>(loads_started.size());
    changed.notify_all();
    changed.wait(lock, [&] { return releases >= mine; });
    ++returned;
    changed.notify_all();
    config::LoadResult result;
    result.errors.push_back({{}, "loaded " + path});  // tells the results apart
    return result;
  }
  void post(std::function<void()> task) {
    std::lock_guard lock(mutex);
    posted.push_back(std::move(task));
    changed.notify_all();
  }
  void release() {
    std::lock_guard lock(mutex);
    ++releases;
    changed.notify_all();
  }
  template <typename Predicate>
  void wait_for(Predicate predicate) {
    std::unique_lock lock(mutex);
    REQUIRE(changed.wait_for(lock, kBound, [&] { return predicate(); }));
  }
  // The loop's turn: runs one posted task once there is one.
  void run_one_posted() {
    std::function<void()> task;
    wait_for([&] { return !posted.empty(); });
    {
      std::lock_guard lock(mutex);
      task = std::move(posted.front());
      posted.pop_front();
    }
    task();
  }
};

struct Fixture {
  std::shared_ptr<Fake> fake = std::make_shared<Fake>();
  std::vector<std::string> done;  // the first error of each result handed back
  std::unique_ptr<ConfigReload> reload = std::make_unique<ConfigReload>(
      [fake = fake](const std::string& path) { return fake->load(path); },
      [fake = fake](std::function<void()> task) { fake->post(std::move(task)); },
      [this](config::LoadResult result) { done.push_back(result.errors.at(0).message); });
};

}  // namespace

TEST_CASE("a reload loads off the calling thread and hands the result back through post",
          "[config_reload]") {
  Fixture f;
  f.reload->request("a.yaml");
  CHECK(f.reload->busy());
  f.fake->wait_for([&] { return f.fake->loads_started.size() == 1; });
  CHECK(f.fake->load_threads.at(0) != std::this_thread::get_id());
  f.fake->release();
  f.fake->run_one_posted();
  CHECK(f.done == std::vector<std::string>{"loaded a.yaml"});
  CHECK_FALSE(f.reload->busy());

  f.reload->request("b.yaml");  // the worker serves the next request too
  f.fake->release();
  f.fake->run_one_posted();
  CHECK(f.done.back() == "loaded b.yaml");
}

TEST_CASE("requests during a load coalesce into one more load of the newest path",
          "[config_reload]") {
  Fixture f;
  f.reload->request("1.yaml");
  f.fake->wait_for([&] { return f.fake->loads_started.size() == 1; });
  for (const char* path : {"2.yaml", "3.yaml", "4.yaml"}) f.reload->request(path);
  f.fake->release();
  f.fake->run_one_posted();
  CHECK(f.done == std::vector<std::string>{"loaded 1.yaml"});
  CHECK(f.reload->busy());  // the queued one started before the result was handed over

  f.fake->wait_for([&] { return f.fake->loads_started.size() == 2; });
  CHECK(f.fake->loads_started.back() == "4.yaml");
  f.fake->release();
  f.fake->run_one_posted();
  CHECK(f.done == std::vector<std::string>{"loaded 1.yaml", "loaded 4.yaml"});
  CHECK_FALSE(f.reload->busy());
  CHECK(f.fake->posted.empty());
}

// A `client_secret_file` that is a FIFO blocked the load in open() until a writer came.
TEST_CASE("destruction does not wait for a load that never returns", "[config_reload]") {
  Fixture f;
  f.reload->request("fifo.yaml");
  f.fake->wait_for([&] { return f.fake->loads_started.size() == 1; });
  auto destroyed = std::async(std::launch::async, [&] { f.reload.reset(); });
  const bool returned = destroyed.wait_for(kBound) == std::future_status::ready;
  f.fake->release();  // lets the detached worker finish, and a wrong, waiting version too
  destroyed.wait();
  CHECK(returned);
  f.fake->wait_for([&] { return f.fake->returned == 1; });
}

TEST_CASE("a result handed back after destruction is dropped", "[config_reload]") {
  Fixture f;
  f.reload->request("a.yaml");
  f.fake->release();
  f.fake->wait_for([&] { return !f.fake->posted.empty(); });
  f.reload.reset();
  f.fake->run_one_posted();  // the loop runs it later: it must not reach the dead owner
  CHECK(f.done.empty());
}
