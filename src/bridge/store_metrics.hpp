// The store metrics for either backend (README "Metrics"): a Backend that forwards every
// call to the real one and counts it by operation, with its latency from the call to the
// completion (queueing included: what the relay waits) and its failures:
//   dsb_store_requests_total{backend,op}, dsb_store_request_seconds{backend,op} (histogram),
//   dsb_store_errors_total{backend,op}.
// A failure is an error completion (append, record_*, claim_dedup); due() and find_dedup()
// answer empty instead of failing, so theirs count when the backend was not writable when
// they completed. Calls without a completion (release, remember_dedup, release_dedup) are
// counted but not timed.
#pragma once

#include <array>
#include <string>

#include "admin/metrics.hpp"
#include "store/backend.hpp"

namespace dsb::bridge {

class MeteredBackend final : public store::Backend {
 public:
  // REQUIRES: `backend` outlives this object.
  MeteredBackend(store::Backend& backend, metrics::Registry& registry);

  std::string_view name() const override { return backend_.name(); }
  Status wait_open() override { return backend_.wait_open(); }
  bool writable() const override { return backend_.writable(); }
  std::string unwritable_reason() const override { return backend_.unwritable_reason(); }
  bool locked_out() const override { return backend_.locked_out(); }

  void append(store::SpoolEntry entry, std::function<void(Status)> done) override;
  void due(int64_t now_ms, size_t limit,
           std::function<void(std::vector<store::DueDelivery>)> done) override;
  void record_success(int64_t delivery_id, store::Attempt attempt,
                      std::function<void(Status)> done = {}) override;
  void record_failure(int64_t delivery_id, store::Attempt attempt, int64_t next_attempt_at_ms,
                      std::function<void(Status)> done = {}) override;
  void dead_letter(int64_t delivery_id, store::Attempt attempt,
                   std::function<void(Status)> done = {}) override;
  void release(int64_t delivery_id) override;
  store::SpoolCounts counts() const override { return backend_.counts(); }
  size_t unrecorded_outcomes() const override { return backend_.unrecorded_outcomes(); }
  std::map<std::string, int64_t> oldest_pending() const override { return backend_.oldest_pending(); }

  void remember_dedup(store::DedupRecord record) override;
  void find_dedup(std::string key, int64_t since_ms,
                  std::function<void(std::optional<store::DedupRecord>)> done) override;
  void claim_dedup(std::string key, int64_t since_ms, int64_t lease_ms,
                   std::function<void(Result<store::DedupClaim>)> done) override;
  void release_dedup(std::string key) override;

  // Declares the three families (HELP texts) in `registry`.
  static void describe(metrics::Registry& registry);

 private:
  enum Op { append_op, due_op, success_op, failure_op, dead_op, release_op, remember_op,
            find_op, claim_op, release_dedup_op, op_count };
  struct Series {
    metrics::Counter* requests;
    metrics::Counter* errors;
    metrics::Histogram* seconds;
  };
  // Counts the call now; returns the start time for finish().
  int64_t start(Op op);
  void finish(Op op, int64_t started_us, bool failed);
  std::function<void(Status)> timed(Op op, std::function<void(Status)> done);

  store::Backend& backend_;
  std::array<Series, op_count> series_{};
};

}  // namespace dsb::bridge
