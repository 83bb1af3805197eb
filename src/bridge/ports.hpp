// What the bridge core needs from the world, as small interfaces: the daemon binds them to
// lws timers and the webhook HTTP thread; unit tests bind them to fakes and run the core
// with no socket at all. Every callback runs on the bridge's own (stream) thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include <vector>

#include "common/status.hpp"
#include "deliver/http_client.hpp"
#include "deliver/request.hpp"
#include "store/store.hpp"

namespace dsb::bridge {

using TimerId = uint64_t;

class Timers {
 public:
  virtual ~Timers() = default;
  // Runs `fire` once after `delay`, unless cancelled first.
  virtual TimerId after(std::chrono::milliseconds delay, std::function<void()> fire) = 0;
  // Cancelling a timer that fired or was cancelled already is a no-op.
  virtual void cancel(TimerId timer) = 0;
  // The clock these timers run on: steady milliseconds, for pacing (rate limits).
  virtual int64_t now_ms() const = 0;
};

class Webhooks {
 public:
  virtual ~Webhooks() = default;
  // Sends `request`; `done` runs exactly once with the outcome.
  virtual void post(deliver::Request request, std::function<void(deliver::Response)> done) = 0;
};

// The durable spool (store/store.hpp) as the core sees it: every `done` runs on the
// bridge's thread.
class Spool {
 public:
  virtual ~Spool() = default;
  // `done` runs once the entry is committed and fsync'd, or with the reason it is not.
  virtual void append(store::SpoolEntry entry, std::function<void(Status)> done) = 0;
  // Claims and returns up to `limit` deliveries due at `now_ms`.
  virtual void due(int64_t now_ms, size_t limit,
                   std::function<void(std::vector<store::DueDelivery>)> done) = 0;
  // The outcome of an attempt on a claimed delivery (kept in its history, `spool show`).
  virtual void record_success(int64_t delivery_id, store::Attempt attempt) = 0;
  virtual void record_failure(int64_t delivery_id, store::Attempt attempt,
                              int64_t retry_at_ms) = 0;
  virtual void dead_letter(int64_t delivery_id, store::Attempt attempt) = 0;
  // Ends a claim without an attempt (shutdown with the POST still running).
  virtual void release(int64_t delivery_id) = 0;
  // False while outcomes of earlier attempts wait for a commit the store cannot make (disk
  // full, state_dir gone): a delivery taken now could be made but not recorded.
  virtual bool can_record_outcomes() const = 0;
};

class WallClock {
 public:
  virtual ~WallClock() = default;
  virtual int64_t now_ms() const = 0;  // ms since the epoch
};

}  // namespace dsb::bridge
