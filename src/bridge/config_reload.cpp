#include "bridge/config_reload.hpp"

#include <condition_variable>
#include <mutex>

#include "common/log.hpp"
#include "common/thread_name.hpp"

namespace dsb::bridge {

struct ConfigReload::Worker {
  Load load;
  Post post;
  std::mutex mutex;  // guards the members below
  std::condition_variable wake;
  std::optional<std::string> job;
  bool loading = false;  // inside load()
  bool closed = false;   // the owner is gone: exit, hand nothing back

  bool is_closed() {
    std::lock_guard lock(mutex);
    return closed;
  }

  // Worker thread. `finished` runs on the loop thread, and only while the owner lives.
  void run(std::function<void(config::LoadResult)> finished) {
    name_this_thread("dsb-config");
    std::unique_lock lock(mutex);
    for (;;) {
      wake.wait(lock, [this] { return closed || job.has_value(); });
      if (closed) return;
      const std::string path = std::move(*job);
      job.reset();
      loading = true;
      lock.unlock();
      auto result = std::make_shared<config::LoadResult>(load(path));
      lock.lock();
      loading = false;
      // Under the lock: the owner cannot close (and free the loop behind `post`) meanwhile.
      if (closed) return;
      post([finished, result] { finished(std::move(*result)); });
    }
  }
};

ConfigReload::ConfigReload(Load load, Post post, Done done)
    : worker_(std::make_shared<Worker>()), done_(std::move(done)) {
  worker_->load = std::move(load);
  worker_->post = std::move(post);
}

ConfigReload::~ConfigReload() {
  bool stuck = false;
  {
    std::lock_guard lock(worker_->mutex);
    worker_->closed = true;
    stuck = worker_->loading;
  }
  worker_->wake.notify_one();
  if (!thread_.joinable()) return;
  if (stuck) {
    log::warn("bridge", "a config load is still running at exit (blocked reading a file?); "
                        "not waiting for it");
    thread_.detach();
  } else {
    thread_.join();
  }
}

void ConfigReload::request(std::string path) {
  if (running_) {
    queued_ = std::move(path);
    return;
  }
  start(std::move(path));
}

void ConfigReload::start(std::string path) {
  running_ = true;
  if (!thread_.joinable()) {
    // The posted hand-back runs on the loop thread, as the destructor does: it sees
    // `closed` reliably and never reaches a destroyed owner.
    std::weak_ptr<Worker> alive = worker_;
    thread_ = std::thread([worker = worker_, this, alive] {
      worker->run([this, alive](config::LoadResult result) {
        if (auto w = alive.lock(); w && !w->is_closed()) finished(std::move(result));
      });
    });
  }
  {
    std::lock_guard lock(worker_->mutex);
    worker_->job = std::move(path);
  }
  worker_->wake.notify_one();
}

void ConfigReload::finished(config::LoadResult result) {
  running_ = false;
  // The next load first, so busy() tells `done` whether this was the last one.
  if (queued_) {
    std::string next = std::move(*queued_);
    queued_.reset();
    start(std::move(next));
  }
  done_(std::move(result));
}

}  // namespace dsb::bridge
