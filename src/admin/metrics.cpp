#include "admin/metrics.hpp"

#include <algorithm>
#include <cmath>

#include "common/log.hpp"

namespace dsb::metrics {

namespace {

struct DefaultHelp {
  const char* name;
  const char* help;
};

// Every metric the daemon exports, so a scrape documents itself without each caller having
// to describe() what it counts.
constexpr DefaultHelp kDefaultHelp[] = {
    {"dsb_frames_total", "Stream frames received, by frame type and topic."},
    {"dsb_frames_malformed_total",
     "Stream frames that could not be parsed, by reason (graph_request: a graph route's frame "
     "whose data is not an HTTP request it may send)."},
    {"dsb_acks_total",
     "ACKs written to the Stream connection, by status code and status: later (an EVENT ACKed "
     "LATER, to be redelivered), ok (any other code-200 ACK), error."},
    {"dsb_ack_latency_seconds",
     "Time from a frame's arrival to its ACK being written to the connection, by frame type "
     "(SYSTEM: ping replies)."},
    {"dsb_last_frame_age_seconds",
     "Seconds since the newest frame on any Stream connection, SYSTEM pings included; before "
     "the first frame, seconds since the bridge started. Whole seconds."},
    {"dsb_acks_dropped_total", "ACKs that could not be written (connection gone or queue full)."},
    {"dsb_reconnects_total", "Stream connection attempts after the first."},
    {"dsb_connections_up", "Stream connections currently registered."},
    {"dsb_deliveries_total", "Webhook deliveries, by route and outcome."},
    {"dsb_deliveries_abandoned_total",
     "Robot messages ACKed on arrival that shutdown dropped before their webhook answered "
     "(running, or waiting for their order_by turn), by route."},
    {"dsb_duplicates_total",
     "Frames suppressed as duplicates, by route (with a shared store also those another "
     "replica delivered or is delivering)."},
    {"dsb_dedup_waits_total",
     "Redeliveries that found another replica delivering the frame and waited for it (shared "
     "store), by outcome: delivered (ACKed as that replica's outcome), delivering (its claim "
     "lapsed or it left URLs to retry: delivered here), deadline (still elsewhere at the ACK "
     "deadline or route timeout: ACKed LATER or failed, to be redelivered)."},
    {"dsb_unrouted_total", "Frames that matched no route, by frame type."},
    {"dsb_robot_replies_total", "Robot replies relayed to DingTalk, by route, via and outcome."},
    {"dsb_openapi_requests_total",
     "Requests answered by an app's local OpenAPI endpoint, by app and HTTP status."},
    {"dsb_openapi_request_seconds",
     "Time from reading a request on an app's OpenAPI endpoint to handing back its answer."},
    {"dsb_delivery_duration_seconds", "Time from frame receipt to the webhook's answer, by route."},
    {"dsb_spool_depth", "Deliveries waiting in the spool."},
    {"dsb_dead_letters", "Deliveries given up on and kept as dead letters."},
    {"dsb_spool_oldest_pending_seconds",
     "Age in seconds of the oldest delivery waiting in the spool, by route; 0 when none waits."},
    {"dsb_store_requests_total", "Requests to the store backend, by backend and operation."},
    {"dsb_store_errors_total",
     "Store requests that failed (backend unusable, write refused), by backend and operation."},
    {"dsb_store_request_seconds",
     "Time from a store request to its completion (queueing included), by backend and operation."},
};

std::vector<double> normalise(std::vector<double> bounds) {
  bounds.erase(std::remove_if(bounds.begin(), bounds.end(), [](double b) { return !std::isfinite(b); }),
               bounds.end());
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  return bounds;
}

}  // namespace

const std::vector<double>& latency_buckets() {
  static const std::vector<double> bounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                             0.25,  0.5,    1,     2.5,  5,     10};
  return bounds;
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(normalise(std::move(bounds))),
      buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double value) {
  if (std::isnan(value)) return;
  const size_t i = static_cast<size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.cumulative.resize(bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::counter: return "counter";
    case Kind::gauge: return "gauge";
    case Kind::histogram: return "histogram";
  }
  return "untyped";
}

bool Registry::claim(const std::string& name, Kind kind) {
  auto [it, inserted] = kinds_.emplace(name, kind);
  if (inserted || it->second == kind) return true;
  if (conflicts_.emplace(name, kind).second) {
    log::error("metrics", "metric name reused with another type; the later one is not exported",
               {{"name", name}, {"type", kind_name(it->second)}, {"reused_as", kind_name(kind)}});
  }
  return false;
}

Counter& Registry::counter(const std::string& name, const Labels& labels) {
  std::lock_guard lock(mutex_);
  claim(name, Kind::counter);
  auto& slot = counters_[Key{name, labels}];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Registry::gauge(const std::string& name, const Labels& labels) {
  std::lock_guard lock(mutex_);
  claim(name, Kind::gauge);
  auto& slot = gauges_[Key{name, labels}];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& Registry::histogram(const std::string& name, const Labels& labels,
                               const std::vector<double>& bounds) {
  std::lock_guard lock(mutex_);
  claim(name, Kind::histogram);
  auto& slot = histograms_[Key{name, labels}];
  if (!slot) {
    auto family = hist_bounds_.try_emplace(name, normalise(bounds)).first;
    slot = std::make_unique<Histogram>(family->second);
  }
  return *slot;
}

void Registry::describe(const std::string& name, std::string help) {
  std::lock_guard lock(mutex_);
  help_[name] = std::move(help);
}

std::string Registry::help(const std::string& name) const {
  {
    std::lock_guard lock(mutex_);
    auto it = help_.find(name);
    if (it != help_.end()) return it->second;
  }
  std::string builtin = default_help(name);
  return builtin.empty() ? "(undocumented)" : builtin;
}

std::vector<Registry::Sample> Registry::snapshot() const {
  std::lock_guard lock(mutex_);
  std::vector<Sample> out;
  out.reserve(counters_.size() + gauges_.size());
  for (const auto& [key, c] : counters_) {
    out.push_back({key.first, key.second, true, static_cast<int64_t>(c->value())});
  }
  for (const auto& [key, g] : gauges_) out.push_back({key.first, key.second, false, g->value()});
  return out;
}

std::vector<Registry::HistogramSample> Registry::histogram_snapshot() const {
  std::lock_guard lock(mutex_);
  std::vector<HistogramSample> out;
  out.reserve(histograms_.size());
  for (const auto& [key, h] : histograms_) {
    out.push_back({key.first, key.second, h->bounds(), h->snapshot()});
  }
  return out;
}

std::vector<Registry::Family> Registry::families() const {
  std::vector<Sample> samples = snapshot();
  std::vector<HistogramSample> histograms = histogram_snapshot();
  std::map<std::string, Kind> kinds;
  {
    std::lock_guard lock(mutex_);
    kinds = kinds_;
  }
  // std::map: families come out sorted by name; the per-kind maps above already sorted each
  // family's series by labels.
  std::map<std::string, Family> by_name;
  auto family = [&](const std::string& name, Kind kind) -> Family* {
    auto k = kinds.find(name);
    if (k == kinds.end() || k->second != kind) return nullptr;  // a conflicting registration
    Family& f = by_name[name];
    f.name = name;
    f.kind = kind;
    return &f;
  };
  for (auto& s : samples) {
    if (Family* f = family(s.name, s.is_counter ? Kind::counter : Kind::gauge)) {
      f->samples.push_back(std::move(s));
    }
  }
  for (auto& h : histograms) {
    if (Family* f = family(h.name, Kind::histogram)) f->histograms.push_back(std::move(h));
  }
  std::vector<Family> out;
  out.reserve(by_name.size());
  for (auto& [name, f] : by_name) {
    f.help = help(name);
    out.push_back(std::move(f));
  }
  return out;
}

std::string default_help(const std::string& name) {
  for (const auto& d : kDefaultHelp) {
    if (name == d.name) return d.help;
  }
  return {};
}

void declare_standard(Registry& registry) {
  registry.counter("dsb_reconnects_total");
  registry.counter("dsb_acks_dropped_total");
  registry.gauge("dsb_connections_up");
  registry.gauge("dsb_spool_depth");
  registry.gauge("dsb_dead_letters");
  registry.gauge("dsb_last_frame_age_seconds");
}

Registry& global() {
  static Registry registry;
  return registry;
}

}  // namespace dsb::metrics
