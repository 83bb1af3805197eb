// SIGHUP's config load, off the loop thread (product.md section 7; style.md example 6).
//
// Reading and validating a config can take long: a multi-MB file stalled the loop for 3 s
// (an ACK came at 2.92 s, past the deadline), and a `*_file` secret that is a FIFO blocked
// it until a signal came (issue 12). So the load runs on a worker thread ("dsb-config")
// and the loop thread only receives a finished LoadResult, through `post`
// (EventLoop::post), to swap in a valid Config or report the errors.
//
// Requests coalesce: one load runs at a time; any number of requests while it runs make
// exactly one more load, of the newest path, started when the running one has been handed
// back. Every finished load is handed back, so a storm of SIGHUPs still applies configs
// and always ends with the newest file.
//
// Threads: request(), busy() and `done` on the loop thread; the load on the worker. A load
// blocked in I/O cannot be interrupted: the destructor waits for an idle worker, but
// detaches one still inside a load; a detached worker hands nothing back and touches
// nothing but its own state (`load` must capture nothing the owner frees).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "config/loader.hpp"

namespace dsb::bridge {

class ConfigReload {
 public:
  using Load = std::function<config::LoadResult(const std::string& path)>;
  using Post = std::function<void(std::function<void()>)>;
  using Done = std::function<void(config::LoadResult)>;

  ConfigReload(Load load, Post post, Done done);
  ~ConfigReload();
  ConfigReload(const ConfigReload&) = delete;
  ConfigReload& operator=(const ConfigReload&) = delete;

  // Loads `path` now, or after the running load when one is under way.
  void request(std::string path);
  // A load is running or waiting: `done` will be called at least once more.
  bool busy() const { return running_; }

 private:
  struct Worker;  // what the worker thread shares with the owner

  void start(std::string path);
  void finished(config::LoadResult result);

  std::shared_ptr<Worker> worker_;
  Done done_;
  std::thread thread_;  // started by the first request
  bool running_ = false;
  std::optional<std::string> queued_;  // the newest path requested while running
};

}  // namespace dsb::bridge
