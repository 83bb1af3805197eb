// Runs open calls (open_call.hpp) off the lws thread: the lws thread owns the connections,
// this worker thread owns every curl handle. They meet in two queues (jobs in, results out);
// after each result the worker calls `wake` (lws_cancel_service), and the lws thread drains
// the results in LWS_CALLBACK_EVENT_WAIT_CANCELLED (style.md example 1).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "stream/open_call.hpp"
#include "stream/proxy.hpp"

namespace dsb::stream {

class OpenCallWorker {
 public:
  // Fixed for the worker's life. What a config reload may change travels in each Job.
  struct Settings {
    std::optional<Proxy> proxy;
    // Extra CA bundle, added to (not replacing) the system store: see add_extra_ca().
    std::string ca_file;
    std::chrono::milliseconds connect_timeout{5'000};
    std::chrono::milliseconds total_timeout{10'000};
  };
  struct Job {
    uint64_t token = 0;  // echoed back so stale results can be told apart
    int slot = 0;
    std::string url;   // open_url(api_base)
    std::string body;  // open_request_body(): holds the secret, never logged
    // Redacted from anything that could reach a log line, in case a server echoes it.
    std::string client_secret;
  };
  struct Done {
    uint64_t token = 0;
    int slot = 0;
    OpenResponse response;
  };

  OpenCallWorker(Settings settings, std::function<void()> wake);
  ~OpenCallWorker();  // stop()s
  OpenCallWorker(const OpenCallWorker&) = delete;
  OpenCallWorker& operator=(const OpenCallWorker&) = delete;

  void start();
  void submit(Job job);
  // Results so far, oldest first.
  std::vector<Done> drain();
  // Drops queued jobs and makes the running transfer abort (curl's progress callback sees it
  // within about a second); never blocks. No result is delivered after it.
  void cancel();
  // cancel() and join the thread.
  void stop();

 private:
  void loop();
  OpenResponse perform(const Job& job);

  Settings settings_;
  std::function<void()> wake_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  std::vector<Done> done_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace dsb::stream
