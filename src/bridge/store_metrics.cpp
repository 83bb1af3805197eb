#include "bridge/store_metrics.hpp"

#include "common/clock.hpp"

namespace dsb::bridge {
namespace {

constexpr const char* kOpNames[] = {"append",        "due",         "record_success",
                                    "record_failure", "dead_letter", "release",
                                    "remember_dedup", "find_dedup",  "claim_dedup",
                                    "release_dedup"};

// Store requests take from tens of microseconds (Redis on loopback) to seconds (an fsync on
// a busy disk, a command timeout).
const std::vector<double>& store_buckets() {
  static const std::vector<double> buckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                              0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
  return buckets;
}

}  // namespace

MeteredBackend::MeteredBackend(store::Backend& backend, metrics::Registry& registry)
    : backend_(backend) {
  describe(registry);
  for (int op = 0; op < op_count; ++op) {
    const metrics::Labels labels = {{"backend", std::string(backend.name())}, {"op", kOpNames[op]}};
    series_[static_cast<size_t>(op)] = {
        &registry.counter("dsb_store_requests_total", labels),
        &registry.counter("dsb_store_errors_total", labels),
        &registry.histogram("dsb_store_request_seconds", labels, store_buckets())};
  }
}

void MeteredBackend::describe(metrics::Registry& registry) {
  // The HELP texts are the built-in ones (metrics::default_help).
  for (const char* name :
       {"dsb_store_requests_total", "dsb_store_errors_total", "dsb_store_request_seconds"})
    registry.describe(name, metrics::default_help(name));
}

int64_t MeteredBackend::start(Op op) {
  series_[static_cast<size_t>(op)].requests->inc();
  return steady_us();
}

void MeteredBackend::finish(Op op, int64_t started_us, bool failed) {
  const Series& s = series_[static_cast<size_t>(op)];
  s.seconds->observe(static_cast<double>(steady_us() - started_us) / 1e6);
  if (failed) s.errors->inc();
}

std::function<void(Status)> MeteredBackend::timed(Op op, std::function<void(Status)> done) {
  const int64_t t = start(op);
  return [this, op, t, done = std::move(done)](Status status) {
    finish(op, t, !status);
    if (done) done(std::move(status));
  };
}

void MeteredBackend::append(store::SpoolEntry entry, std::function<void(Status)> done) {
  backend_.append(std::move(entry), timed(append_op, std::move(done)));
}

void MeteredBackend::due(int64_t now_ms, size_t limit,
                         std::function<void(std::vector<store::DueDelivery>)> done) {
  const int64_t t = start(due_op);
  backend_.due(now_ms, limit, [this, t, done = std::move(done)](std::vector<store::DueDelivery> due) {
    finish(due_op, t, !backend_.writable());
    done(std::move(due));
  });
}

void MeteredBackend::record_success(int64_t delivery_id, store::Attempt attempt,
                                    std::function<void(Status)> done) {
  backend_.record_success(delivery_id, std::move(attempt), timed(success_op, std::move(done)));
}

void MeteredBackend::record_failure(int64_t delivery_id, store::Attempt attempt,
                                    int64_t next_attempt_at_ms, std::function<void(Status)> done) {
  backend_.record_failure(delivery_id, std::move(attempt), next_attempt_at_ms,
                          timed(failure_op, std::move(done)));
}

void MeteredBackend::dead_letter(int64_t delivery_id, store::Attempt attempt,
                                 std::function<void(Status)> done) {
  backend_.dead_letter(delivery_id, std::move(attempt), timed(dead_op, std::move(done)));
}

void MeteredBackend::release(int64_t delivery_id) {
  start(release_op);
  backend_.release(delivery_id);
}

void MeteredBackend::remember_dedup(store::DedupRecord record) {
  start(remember_op);
  backend_.remember_dedup(std::move(record));
}

void MeteredBackend::find_dedup(std::string key, int64_t since_ms,
                                std::function<void(std::optional<store::DedupRecord>)> done) {
  const int64_t t = start(find_op);
  backend_.find_dedup(std::move(key), since_ms,
                      [this, t, done = std::move(done)](std::optional<store::DedupRecord> record) {
                        finish(find_op, t, !record && !backend_.writable());
                        done(std::move(record));
                      });
}

void MeteredBackend::claim_dedup(std::string key, int64_t since_ms, int64_t lease_ms,
                                 std::function<void(Result<store::DedupClaim>)> done) {
  const int64_t t = start(claim_op);
  backend_.claim_dedup(std::move(key), since_ms, lease_ms,
                       [this, t, done = std::move(done)](Result<store::DedupClaim> claim) {
                         finish(claim_op, t, !claim);
                         done(std::move(claim));
                       });
}

void MeteredBackend::release_dedup(std::string key) {
  start(release_dedup_op);
  backend_.release_dedup(std::move(key));
}

}  // namespace dsb::bridge
