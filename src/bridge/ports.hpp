// What the bridge core needs from the world, as small interfaces: the daemon binds them to
// lws timers and the webhook HTTP thread; unit tests bind them to fakes and run the core
// with no socket at all. Every callback runs on the bridge's own (stream) thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "deliver/http_client.hpp"
#include "deliver/request.hpp"

namespace dsb::bridge {

using TimerId = uint64_t;

class Timers {
 public:
  virtual ~Timers() = default;
  // Runs `fire` once after `delay`, unless cancelled first.
  virtual TimerId after(std::chrono::milliseconds delay, std::function<void()> fire) = 0;
  // Cancelling a timer that fired or was cancelled already is a no-op.
  virtual void cancel(TimerId timer) = 0;
};

class Webhooks {
 public:
  virtual ~Webhooks() = default;
  // Sends `request`; `done` runs exactly once with the outcome.
  virtual void post(deliver::Request request, std::function<void(deliver::Response)> done) = 0;
};

class WallClock {
 public:
  virtual ~WallClock() = default;
  virtual int64_t now_ms() const = 0;  // ms since the epoch
};

}  // namespace dsb::bridge
