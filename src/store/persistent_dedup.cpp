#include "store/persistent_dedup.hpp"

#include <future>

namespace dsb::store {

PersistentDedupStore::PersistentDedupStore(Store& store, int64_t window_ms)
    : store_(store), window_ms_(window_ms), cache_(window_ms) {}

void PersistentDedupStore::load(int64_t now_ms) {
  std::promise<std::vector<DedupRecord>> promise;
  auto future = promise.get_future();
  store_.load_dedup(now_ms - window_ms_, [&promise](std::vector<DedupRecord> records) {
    promise.set_value(std::move(records));
  });
  // Oldest first, with the time each was remembered: each expires when it would have.
  for (auto& record : future.get()) {
    cache_.remember(record.key, {record.code, std::move(record.data)}, record.remembered_at_ms);
  }
}

std::optional<bridge::DeliveredOutcome> PersistentDedupStore::find(const std::string& key,
                                                                   int64_t now_ms) {
  return cache_.find(key, now_ms);
}

void PersistentDedupStore::remember(const std::string& key, bridge::DeliveredOutcome outcome,
                                    int64_t now_ms) {
  store_.remember_dedup({key, outcome.code, outcome.data, now_ms});
  cache_.remember(key, std::move(outcome), now_ms);
}

}  // namespace dsb::store
