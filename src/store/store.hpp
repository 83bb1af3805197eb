// The durable store (product.md section 6): the spool of frames waiting for delivery and
// the dedup records, in one SQLite file ({state_dir}/bridge.db, WAL, synchronous=FULL).
//
// Threading contract
//   - The Store owns one thread of its own, the store thread. Every SQLite call runs there;
//     the Database is opened, used and closed only on it.
//   - Every public method may be called from any thread. The asynchronous ones queue a
//     request and return at once; their completion (`done`) runs later ON THE STORE
//     THREAD, exactly once, also when the store is unusable (with an error) or being
//     destroyed. Completions must be quick and must not block on the Store; the daemon
//     wraps each one in `loop.post(...)` to get back to the loop thread.
//   - Requests are applied in the order they were queued (per calling thread).
//
// Group commit: the store thread takes every request queued so far (up to a batch cap)
// and applies them in ONE transaction with one fsync; requests queued while that commit
// runs form the next batch. So appends cost one fsync per batch, not one each.
// Bookkeeping whose loss in a crash costs at most one repeated delivery (dedup records,
// delivered marks) is deferrable: it waits up to `write_behind_ms` for company, so a steady
// trickle of events commits a few times a second instead of once per event. Any other
// request takes the deferred ones along into its batch at once, in queue order.
//
// Faults: when the directory cannot be created, the file cannot be opened or a write
// fails (read-only, disk full, I/O error), the batch's requests complete with an error,
// writable() turns false with the reason (logged once per change), and the store tries
// again: at once on the next request, and at least every `retry_interval` on its own.
//   - An outcome (record_success / record_failure / dead_letter) that cannot be committed
//     is not lost: it is kept in memory with its claim, so the delivery is not handed out
//     (and POSTed) again, and committed with the next write batch or on the next
//     `retry_interval`. unrecorded_outcomes() counts them; the spooler takes no new
//     deliveries meanwhile.
//   - Every `retry_interval` and before each commit, the store checks that state_dir and
//     bridge.db are still the directory and file it has open (StoreFiles): one removed or
//     replaced while running makes the store unwritable until it is put back.
//   - state_dir is locked (StateLock) while the store has it open: a second daemon on the
//     same directory gets locked_out() and exits.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/status.hpp"
#include "store/backend.hpp"
#include "store/database.hpp"
#include "store/store_files.hpp"

namespace dsb::store {

struct StoreOptions {
  std::string state_dir;
  int64_t dedup_window_ms = 3'600'000;
  int busy_timeout_ms = 5'000;
  // Reopen / retry cadence while unwritable; also how often the store checks that its
  // files are in place and refreshes oldest_pending().
  int64_t retry_interval_ms = 5'000;
  // How often dedup rows are pruned, fully delivered frames dropped and the counts recounted.
  int64_t maintenance_interval_ms = 60'000;
  size_t max_batch = 1'024;  // requests per transaction
  int64_t write_behind_ms = 100;  // longest wait of a deferrable request (see above)
  std::function<int64_t()> wall_clock;  // default: dsb::wall_ms
  // Test hooks. `fault` runs on the store thread before each commit; an error fails the
  // batch as a write error would. `max_page_count` caps the file ("disk full").
  std::function<Status()> fault;
  int64_t max_page_count = 0;
};

class Store final : public Backend {
 public:
  // Starts the store thread, which opens the database at once. Never fails: see writable().
  explicit Store(StoreOptions options);
  // Completes every queued request (applying it if the database is usable), closes the
  // database and joins the store thread. REQUIRES: no other thread is still calling in.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Blocks until the store thread's first open attempt is over; returns its outcome. For
  // startup logging: the store works (or keeps retrying) either way.
  Status wait_open() override;
  std::string_view name() const override { return "sqlite"; }

  // Any thread, lock-free. False with the reason after a failed open or write; true again
  // after the next successful one.
  bool writable() const override { return writable_.load(std::memory_order_acquire); }
  std::string unwritable_reason() const override;
  // Any thread. True when the last open attempt failed because another process holds
  // state_dir's lock (see StateLock): the daemon does not start then.
  bool locked_out() const override { return locked_out_.load(std::memory_order_acquire); }

  // --- spool -----------------------------------------------------------------------------
  // Stores the frame and one pending delivery per URL, due at once. `done` runs after the
  // transaction holding it is committed and fsync'd (ok), or with the error.
  void append(SpoolEntry entry, std::function<void(Status)> done) override;

  // Pending deliveries with next_attempt_at <= now_ms, oldest first, at most `limit`,
  // none that is already claimed; each one returned is claimed (not handed out again)
  // until record_success/record_failure/dead_letter/release for its id. Claims are in
  // memory: after a restart every pending delivery is due again. On error: empty list.
  // Order: a delivery with an order_key is not handed out while an earlier one (lower id)
  // of the same route, URL and order_key is still pending (claimed, or waiting for a
  // retry): a failing head holds back its own key only, and the order survives restarts.
  void due(int64_t now_ms, size_t limit,
           std::function<void(std::vector<DueDelivery>)> done) override;

  // The outcome of an attempt on a claimed delivery; each ends the claim once committed,
  // counts the attempt, and adds it to the delivery's history (bounded, see
  // kFirstAttemptsKept). An outcome for a delivery that is no longer pending changes
  // nothing. `done` (optional) runs after the first commit attempt; when that failed, the
  // outcome is kept with its claim and committed later (see Faults above).
  // A success is deferrable: the claim keeps it from being handed out again meanwhile.
  void record_success(int64_t delivery_id, Attempt attempt,
                      std::function<void(Status)> done = {}) override;
  // A failed attempt that will be retried at `next_attempt_at_ms`.
  void record_failure(int64_t delivery_id, Attempt attempt, int64_t next_attempt_at_ms,
                      std::function<void(Status)> done = {}) override;
  // A failed attempt after which the delivery is given up (state dead).
  void dead_letter(int64_t delivery_id, Attempt attempt,
                   std::function<void(Status)> done = {}) override;
  // Ends the claim without an attempt (shutdown before the POST finished).
  void release(int64_t delivery_id) override;

  // Any thread: counts for metrics, refreshed after open and each maintenance pass.
  SpoolCounts counts() const override { return {pending_.load(), dead_.load()}; }
  // Refreshes the counts now; `done` runs with them.
  void refresh_counts(std::function<void(SpoolCounts)> done = {});
  // Any thread: outcomes kept in memory because their commit failed (see Faults above).
  size_t unrecorded_outcomes() const override { return unrecorded_count_.load(); }
  // Any thread: per route, queued_at (wall ms) of the oldest pending delivery; routes with
  // none are absent. Read every retry_interval while anything is pending; emptied at once
  // when nothing is.
  std::map<std::string, int64_t> oldest_pending() const override;

  // --- dedup -----------------------------------------------------------------------------
  // Write-behind, deferrable: stored within write_behind_ms; a failure is logged, not
  // reported.
  void remember_dedup(DedupRecord record) override;
  // Calls `each` for every record remembered at or after `since_ms`, oldest first, then
  // `done` (with the error if the store is unusable). Both run on the store thread.
  void scan_dedup(int64_t since_ms, std::function<void(const DedupRecord&)> each,
                  std::function<void(const Status&)> done);
  // The record for `key` if it was remembered at or after `since_ms`. Answered as soon as
  // the store thread has read it, without waiting for the batch's commit: it sees every
  // remember_dedup queued before it. nullopt when absent or unreadable.
  void find_dedup(std::string key, int64_t since_ms,
                  std::function<void(std::optional<DedupRecord>)> done) override;
  // One replica: the record if there is one, else `mine` (never `elsewhere`); nothing is
  // held, so release_dedup has nothing to give up.
  void claim_dedup(std::string key, int64_t since_ms, int64_t lease_ms,
                   std::function<void(Result<DedupClaim>)> done) override;
  void release_dedup(std::string /*key*/) override {}

  // Any thread: transactions committed so far (each one fsync) - shows group commit at work.
  uint64_t commits() const { return commits_.load(); }

  // Runs a maintenance pass now (tests; the store runs one every maintenance_interval).
  void run_maintenance(std::function<void()> done = {});

 private:
  // Claims end inside `apply` (so a due() later in the same batch sees them), and again in
  // `complete` when the batch failed before the apply ran.
  // One queued request. `apply` runs inside the batch's transaction (null db: the store is
  // unusable) and returns its outcome; `complete` runs after the commit with that outcome,
  // or with the commit's error.
  struct Request {
    std::function<Status(Database*)> apply;
    std::function<void(const Status&)> complete;
    bool writes = true;
    bool deferrable = false;  // may wait write_behind_ms for a batch to join
  };

  void enqueue(Request request);
  // What record_success / record_failure / dead_letter each write (store.cpp).
  struct Outcome;
  static const Outcome kDelivered, kRetry, kDead;
  // Ends the claim and writes `outcome` with `attempt` in its history; a failed commit
  // keeps both (hold_unrecorded).
  void enqueue_outcome(int64_t delivery_id, const Outcome& outcome, Attempt attempt,
                       int64_t next_attempt_at_ms, std::function<void(Status)> done);
  void hold_unrecorded(int64_t delivery_id, std::function<Status(Database*)> apply);
  // Moves the unrecorded outcomes into `batch`, ahead of its requests.
  void retry_unrecorded(std::vector<Request>& batch);
  // Every retry_interval: the files' check, the unrecorded outcomes, oldest_pending().
  void periodic_check(std::vector<Request>& batch);
  // The database's path no longer leads to it: stop using it until it is put back.
  void detach();
  // mutex_ held: the store thread should take a batch now.
  bool batch_due() const;
  void run();
  void run_batch(std::vector<Request>& batch);
  bool ensure_open();
  void set_writable(bool writable, const std::string& reason);
  void maintain();
  Status count_spool(SpoolCounts& counts);
  Status read_oldest_pending();
  // Inside a batch: counts the spool, the base that the batch's later deltas apply to.
  Status recount_in_batch();
  int64_t now() const;

  const StoreOptions options_;

  std::mutex mutex_;  // guards queue_, stopping_, urgent_queued_, oldest_queued_ms_
  std::condition_variable wake_;
  std::deque<Request> queue_;
  bool stopping_ = false;
  size_t urgent_queued_ = 0;      // requests in queue_ that are not deferrable
  int64_t oldest_queued_ms_ = 0;  // steady time queue_ last went from empty to not

  std::mutex open_mutex_;  // guards open_status_
  std::condition_variable opened_;
  std::optional<Status> open_status_;

  std::atomic<bool> writable_{false};
  mutable std::mutex reason_mutex_;
  std::string reason_ = "not opened yet";
  std::atomic<int64_t> pending_{0};
  std::atomic<int64_t> dead_{0};
  std::atomic<uint64_t> commits_{0};
  std::atomic<bool> locked_out_{false};
  std::atomic<size_t> unrecorded_count_{0};
  mutable std::mutex oldest_mutex_;  // guards oldest_pending_
  std::map<std::string, int64_t> oldest_pending_;

  // Store thread only.
  StoreFiles files_;
  std::unordered_set<int64_t> claimed_;
  // Outcomes whose commit failed, by delivery id (still claimed): the apply to run again.
  std::unordered_map<int64_t, std::function<Status(Database*)>> unrecorded_;
  size_t unrecorded_retrying_ = 0;  // taken from unrecorded_ into the batch under way
  int64_t next_open_attempt_ms_ = 0;
  int64_t next_maintenance_ms_ = 0;
  int64_t next_check_ms_ = 0;
  bool logged_state_known_ = false;
  int64_t batch_pending_delta_ = 0;  // count changes of the batch under way, applied on commit
  int64_t batch_dead_delta_ = 0;
  std::optional<SpoolCounts> batch_counts_;  // set when the batch under way counted the spool

  std::thread thread_;  // last: starts after every member above exists
};

}  // namespace dsb::store
