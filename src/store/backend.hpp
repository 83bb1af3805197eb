// The store as the daemon sees it (product.md sections 6 and 12): the spool and the dedup
// records, behind one interface with two backends chosen by `store.backend`:
//   sqlite  store::Store (store.hpp): one file under state_dir, one replica.
//   redis   store::RedisStore: shared by every replica running the same config.
//
// Threading contract (both backends): every method may be called from any thread. The
// asynchronous ones queue a request and return at once; `done` runs later ON THE
// BACKEND'S OWN THREAD, exactly once, also when the store is unusable (with an error) or
// being destroyed. Completions must be quick and must not call back into the backend
// synchronously; the daemon wraps each one in `loop.post(...)`.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "store/spool_types.hpp"

namespace dsb::store {

// What a replica learns when it asks for the right to deliver a frame identity
// (claim_dedup): nobody has it (now it is ours, for `lease`), it was delivered (the record),
// or another replica is delivering it right now.
struct DedupClaim {
  enum class State { mine, delivered, elsewhere };
  State state = State::mine;
  DedupRecord record;  // delivered: what the key was remembered with
};

class Backend {
 public:
  virtual ~Backend() = default;

  // "sqlite" or "redis": the `backend` label of the store metrics.
  virtual std::string_view name() const = 0;

  // Blocks until the first connect/open attempt is over; returns its outcome. For startup
  // logging: the backend works (or keeps retrying by itself) either way.
  virtual Status wait_open() = 0;
  // Any thread, cheap. False with the reason while the store cannot take writes (file
  // unwritable, Redis unreachable or refusing); true again once it can.
  virtual bool writable() const = 0;
  virtual std::string unwritable_reason() const = 0;
  // True when another process holds the store exclusively (SQLite's state_dir lock): the
  // daemon does not start then. Shared backends never are.
  virtual bool locked_out() const { return false; }

  // --- spool (see Store for the full contract; both backends keep it) --------------------
  // `done` runs once the entry is durable (SQLite: fsync'd; Redis: the server acknowledged
  // the write), or with the reason it is not.
  virtual void append(SpoolEntry entry, std::function<void(Status)> done) = 0;
  // Claims and returns up to `limit` deliveries due at `now_ms` (order_by keys respected).
  // A claim lasts until an outcome or release; on a shared backend it is a lease that this
  // replica renews while it holds the claim, and that another replica may take over once
  // it lapses (the holder died).
  virtual void due(int64_t now_ms, size_t limit,
                   std::function<void(std::vector<DueDelivery>)> done) = 0;
  virtual void record_success(int64_t delivery_id, Attempt attempt,
                              std::function<void(Status)> done = {}) = 0;
  virtual void record_failure(int64_t delivery_id, Attempt attempt, int64_t next_attempt_at_ms,
                              std::function<void(Status)> done = {}) = 0;
  virtual void dead_letter(int64_t delivery_id, Attempt attempt,
                           std::function<void(Status)> done = {}) = 0;
  virtual void release(int64_t delivery_id) = 0;
  // Any thread: counts for metrics, refreshed periodically.
  virtual SpoolCounts counts() const = 0;
  // Any thread: outcomes waiting for a write the store cannot make yet.
  virtual size_t unrecorded_outcomes() const = 0;
  // Any thread: per route, queued_at (wall ms) of the oldest pending delivery.
  virtual std::map<std::string, int64_t> oldest_pending() const = 0;

  // --- dedup -----------------------------------------------------------------------------
  // Remembers `record` for the dedup window; on a shared backend it also ends this
  // replica's claim on the key. Write-behind allowed; a failure is logged, not reported.
  virtual void remember_dedup(DedupRecord record) = 0;
  // The record for `key` if remembered at or after `since_ms`; nullopt when absent or
  // unreadable.
  virtual void find_dedup(std::string key, int64_t since_ms,
                          std::function<void(std::optional<DedupRecord>)> done) = 0;
  // Atomically: the record if there is one; else the right to deliver `key` for `lease_ms`
  // (mine) unless another replica holds it (elsewhere). An error when the store cannot
  // answer. A single-replica backend never answers `elsewhere`.
  virtual void claim_dedup(std::string key, int64_t since_ms, int64_t lease_ms,
                           std::function<void(Result<DedupClaim>)> done) = 0;
  // Gives up a claim without a record (the delivery failed): the next arrival may try.
  virtual void release_dedup(std::string key) = 0;
};

}  // namespace dsb::store
