// The Redis store backend (product.md section 12): the spool and the dedup records in one
// Redis server shared by every replica running the same config (Backend's contract).
//
// Why not streams with consumer groups: a spooled delivery needs a due time (retry
// backoff, `spool replay`), per-key order (only the head of an order_by key may be
// delivered) and a lease another replica can take over. XAUTOCLAIM only knows a message's
// idle time, not a future retry time, and cannot hold back the rest of a key behind its
// head. So the spool is plain data kept consistent by Lua scripts (redis_scripts.cpp), one
// script per step, each atomic on the server (P = key_prefix):
//   P d:ID      hash per delivery: frame id, url, route, state, attempts, queued/next/updated
//               times, last error, its order list, and the claim token while claimed
//   P f:FID     hash per frame: route, dedup key, type, headers, data, created_at, and refs
//               (deliveries not yet delivered or purged: the last one deletes the frame)
//   P h:ID      list: the attempt history, first kFirstAttemptsKept + last kLastAttemptsKept
//   P due       zset of deliveries that may be handed out, scored by next_attempt_at
//   P claims    zset of claimed deliveries, scored by lease expiry (Redis's clock)
//   P o:ROUTE US URL US KEY   list of an order key's pending deliveries in append order:
//               only its head is ever in P due
//   P pending, P dead (by death time), P queued:ROUTE (by queued_at), P routes: for the
//               counts, oldest_pending() and the `spool` commands
//   P dd:KEY    a dedup record, SET ... PX dedup_window (Redis expires it)
//   P dm:KEY    the in-flight marker of a frame being delivered: the claiming replica's
//               token, SET NX PX lease
// A delivered delivery is deleted with its history (the SQLite store keeps it until
// maintenance); `spool show` then finds nothing.
//
// Claims are leases: due() first returns lapsed claims (a dead replica's) to P due, then
// claims what is due with a fresh token. This store renews every claim and in-flight marker
// it holds every lease/3 until the outcome; an outcome or release carries the token, and one
// whose claim was taken over (token changed) changes nothing.
//
// Threading: like Store, one thread of its own runs every Redis command; public methods
// queue a request and return; completions run on that thread. Each round trip sends every
// request queued so far (up to max_batch) as one pipeline of EVALSHAs (EVAL again when the
// server answers NOSCRIPT, e.g. after SCRIPT FLUSH).
//
// Durability: append's `done` runs once Redis answered the script; whether that write
// survives a Redis crash is Redis's appendonly / appendfsync setting (README "Running two
// replicas": appendonly yes, appendfsync everysec or always).
//
// Faults: Redis unreachable, slow past command_timeout, or refusing writes (OOM, READONLY,
// MISCONF): the batch's requests complete with the error, writable() is false with the
// reason, and the connection is made again by itself (backoff). An outcome that could not
// be written is kept with its claim and written again with the next batch (as Store's
// unrecorded outcomes); its lease may lapse meanwhile, and then another replica delivers
// it again (at least once).
#pragma once

#include <array>
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
#include <vector>

#include "config/config.hpp"
#include "store/backend.hpp"
#include "store/redis_connection.hpp"
#include "store/redis_scripts.hpp"

namespace dsb::store {

struct RedisStoreOptions {
  config::RedisEndpoint endpoint;
  std::string key_prefix = "dsb:";
  int64_t lease_ms = 30'000;
  int64_t dedup_window_ms = 3'600'000;
  int64_t connect_timeout_ms = 2'000;
  int64_t command_timeout_ms = 2'000;
  // How often counts() and oldest_pending() are read again.
  int64_t refresh_interval_ms = 2'000;
  // How soon an outcome that could not be written is tried again.
  int64_t retry_interval_ms = 500;
  size_t max_batch = 512;  // requests per round trip
  // Names this replica in claim tokens; default: hostname, pid and a random number.
  std::string replica_id;
  std::function<int64_t()> wall_clock;  // default: dsb::wall_ms
};

class RedisStore final : public Backend {
 public:
  explicit RedisStore(RedisStoreOptions options);
  // Completes every queued request, tries the unrecorded outcomes once more, releases
  // nothing (claims lapse by themselves), joins the thread.
  ~RedisStore() override;
  RedisStore(const RedisStore&) = delete;
  RedisStore& operator=(const RedisStore&) = delete;

  std::string_view name() const override { return "redis"; }
  Status wait_open() override;
  bool writable() const override { return writable_.load(std::memory_order_acquire); }
  std::string unwritable_reason() const override;

  void append(SpoolEntry entry, std::function<void(Status)> done) override;
  void due(int64_t now_ms, size_t limit,
           std::function<void(std::vector<DueDelivery>)> done) override;
  void record_success(int64_t delivery_id, Attempt attempt,
                      std::function<void(Status)> done = {}) override;
  void record_failure(int64_t delivery_id, Attempt attempt, int64_t next_attempt_at_ms,
                      std::function<void(Status)> done = {}) override;
  void dead_letter(int64_t delivery_id, Attempt attempt,
                   std::function<void(Status)> done = {}) override;
  void release(int64_t delivery_id) override;
  SpoolCounts counts() const override { return {pending_.load(), dead_.load()}; }
  size_t unrecorded_outcomes() const override { return unrecorded_count_.load(); }
  std::map<std::string, int64_t> oldest_pending() const override;

  void remember_dedup(DedupRecord record) override;
  void find_dedup(std::string key, int64_t since_ms,
                  std::function<void(std::optional<DedupRecord>)> done) override;
  void claim_dedup(std::string key, int64_t since_ms, int64_t lease_ms,
                   std::function<void(Result<DedupClaim>)> done) override;
  void release_dedup(std::string key) override;

  // Reads counts() and oldest_pending() now; `done` runs after (tests).
  void refresh(std::function<void()> done = {});
  // Any thread: claims this replica holds (tests, metrics).
  size_t held_claims() const { return held_count_.load(); }

 private:
  // What a request sends: a script with its arguments after the prefix, or a plain command.
  struct Call {
    std::optional<RedisScript> script;
    RedisCommand args;
  };
  struct Request {
    const char* op;
    // Runs on the store thread right before sending (it may read the claims held).
    std::function<Call()> build;
    // The reply, or why there is none (connection) / the server's error reply.
    std::function<void(Result<RedisReply>)> complete;
    int64_t queued_steady_us = 0;
  };

  void enqueue(const char* op, std::function<Call()> build,
               std::function<void(Result<RedisReply>)> complete);
  void enqueue_outcome(int64_t delivery_id, const char* kind, Attempt attempt,
                       int64_t next_attempt_at_ms, std::function<void(Status)> done);
  // An outcome's reply: done, or kept in unrecorded_ to be written again.
  void complete_outcome(int64_t delivery_id, std::function<Call()> build,
                        std::shared_ptr<std::function<void(Status)>> done,
                        Result<RedisReply> reply);
  void run();
  void run_batch(std::vector<Request>& batch);
  // Connects if needed, loads the scripts; false (writable() false) when it cannot.
  bool ensure_connected();
  // SCRIPT LOADs every script into shas_; false (connection dropped) when it cannot.
  bool load_scripts();
  RedisCommand expand(const Call& call, bool by_sha) const;
  void periodic(std::vector<Request>& batch);
  void set_writable(bool writable, const std::string& reason);
  int64_t now() const;

  const RedisStoreOptions options_;
  const std::string replica_;

  std::mutex mutex_;  // guards queue_, stopping_
  std::condition_variable wake_;
  std::deque<Request> queue_;
  bool stopping_ = false;

  std::mutex open_mutex_;
  std::condition_variable opened_;
  std::optional<Status> open_status_;

  std::atomic<bool> writable_{false};
  mutable std::mutex reason_mutex_;
  std::string reason_ = "not connected yet";
  std::atomic<int64_t> pending_{0};
  std::atomic<int64_t> dead_{0};
  std::atomic<size_t> unrecorded_count_{0};
  std::atomic<size_t> held_count_{0};
  mutable std::mutex oldest_mutex_;
  std::map<std::string, int64_t> oldest_pending_;

  // Store thread only.
  RedisConnection connection_;
  std::array<std::string, kRedisScriptCount> shas_;
  std::unordered_map<int64_t, std::string> held_;      // delivery id -> claim token
  std::map<std::string, int64_t> held_markers_;        // dedup keys held in flight -> lease
  std::unordered_map<int64_t, Request> unrecorded_;    // outcomes to write again
  int64_t next_renew_ms_ = 0;
  int64_t next_unrecorded_retry_ms_ = 0;  // steady
  int64_t next_refresh_ms_ = 0;
  bool logged_state_known_ = false;

  std::thread thread_;  // last
};

}  // namespace dsb::store
