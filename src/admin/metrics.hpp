// The metric registry: counters and gauges, by name and label set, safe from any thread.
// Creation takes a lock; updating a metric someone holds is one atomic operation, so hot
// paths look a metric up once and keep the reference (references stay valid for the
// registry's lifetime).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
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

class Registry {
 public:
  Counter& counter(const std::string& name, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const Labels& labels = {});

  struct Sample {
    std::string name;
    Labels labels;
    bool is_counter;
    int64_t value;
  };
  // A consistent-enough copy for rendering: each value is read once.
  std::vector<Sample> snapshot() const;

 private:
  using Key = std::pair<std::string, Labels>;
  mutable std::mutex mutex_;
  std::map<Key, std::unique_ptr<Counter>> counters_;
  std::map<Key, std::unique_ptr<Gauge>> gauges_;
};

// The process-wide registry the daemon exports.
Registry& global();

}  // namespace dsb::metrics
