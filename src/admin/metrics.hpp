// The metric registry: counters, gauges and histograms, by name and label set, safe from any
// thread. Creation takes a lock; updating a metric someone holds is lock-free atomics, so hot
// paths look a metric up once and keep the reference (references stay valid for the
// registry's lifetime).
//
// A name is one family of one kind: the kind it was first registered with. Registering the
// same name later as another kind still returns a usable metric (callers never fail), but it
// is logged once and left out of families(), so the exposition stays valid.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace dsb::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(uint64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void add(int64_t by) { value_.fetch_add(by, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Upper bounds, in seconds, for latencies from 1 ms to 10 s.
const std::vector<double>& latency_buckets();

// Fixed buckets chosen at creation. observe() is two relaxed atomic adds and a bounded search
// over the bounds; it never allocates or locks.
class Histogram {
 public:
  // `bounds` are made finite, sorted and unique here; +Inf is always implied.
  explicit Histogram(std::vector<double> bounds);

  // A value v falls in the first bucket whose bound is >= v (Prometheus "le"). NaN is
  // ignored: it would poison _sum forever.
  void observe(double value);

  const std::vector<double>& bounds() const { return bounds_; }

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // bounds().size() + 1 entries; the last is +Inf
    double sum = 0;
    uint64_t count = 0;  // == cumulative.back(), by construction
  };
  // Each bucket is read once. `count` is derived from the buckets so the +Inf bucket and
  // _count always agree, even while other threads observe.
  Snapshot snapshot() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // not cumulative; [bounds_.size()] = above all
  std::atomic<double> sum_{0};
};

enum class Kind { counter, gauge, histogram };
const char* kind_name(Kind kind);  // "counter", "gauge", "histogram"

class Registry {
 public:
  Counter& counter(const std::string& name, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const Labels& labels = {});
  // The bounds are fixed by a family's first histogram: later calls for the same name (any
  // labels) get that family's bounds whatever they pass.
  Histogram& histogram(const std::string& name, const Labels& labels,
                       const std::vector<double>& bounds = latency_buckets());

  // The family's HELP text. A later call replaces an earlier one. Names without one get a
  // built-in text for the names the daemon uses (default_help()), else a placeholder.
  void describe(const std::string& name, std::string help);
  std::string help(const std::string& name) const;

  struct Sample {
    std::string name;
    Labels labels;
    bool is_counter;
    int64_t value;
  };
  // Counters and gauges only. A consistent-enough copy for rendering: each value is read once.
  std::vector<Sample> snapshot() const;

  struct HistogramSample {
    std::string name;
    Labels labels;
    std::vector<double> bounds;
    Histogram::Snapshot data;
  };
  std::vector<HistogramSample> histogram_snapshot() const;

  // Everything, grouped for exposition: families sorted by name, series within a family
  // sorted by labels, each family of one kind.
  struct Family {
    std::string name;
    std::string help;
    Kind kind = Kind::counter;
    std::vector<Sample> samples;             // counter and gauge families
    std::vector<HistogramSample> histograms;  // histogram families
  };
  std::vector<Family> families() const;

 private:
  using Key = std::pair<std::string, Labels>;
  // REQUIRES: mutex_ held. False when `name` is already a family of another kind.
  bool claim(const std::string& name, Kind kind);

  mutable std::mutex mutex_;
  std::map<Key, std::unique_ptr<Counter>> counters_;
  std::map<Key, std::unique_ptr<Gauge>> gauges_;
  std::map<Key, std::unique_ptr<Histogram>> histograms_;
  std::map<std::string, Kind> kinds_;                     // the first kind each name was seen as
  std::set<std::pair<std::string, Kind>> conflicts_;      // logged already
  std::map<std::string, std::vector<double>> hist_bounds_;  // per histogram family
  std::map<std::string, std::string> help_;
};

// The built-in HELP text for a metric the daemon exports, "" for other names.
std::string default_help(const std::string& name);

// Creates the daemon's unlabeled metrics at zero (dsb_reconnects_total, dsb_connections_up,
// dsb_acks_dropped_total, dsb_spool_depth, dsb_dead_letters, dsb_last_frame_age_seconds), so
// a scrape shows them before the first event. Idempotent.
void declare_standard(Registry& registry);

// The process-wide registry the daemon exports.
Registry& global();

}  // namespace dsb::metrics
