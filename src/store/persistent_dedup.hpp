// bridge::DedupStore kept in the store, so duplicates are recognised across restarts
// (product.md section 4, "Duplicates"). The relay calls find/remember synchronously on the
// loop thread: an in-memory window answers them, and every remember is written behind
// through the store thread. Rows older than the window are pruned by the Store's periodic
// maintenance.
#pragma once

#include <cstdint>
#include <memory>

#include "bridge/dedup.hpp"
#include "store/store.hpp"

namespace dsb::store {

class PersistentDedupStore : public bridge::DedupStore {
 public:
  // REQUIRES: `store` outlives this object.
  PersistentDedupStore(Store& store, int64_t window_ms);

  // Loads the records younger than the window from the file into memory. Blocks until the
  // store thread has answered, so call it once at startup, before the loop runs (or from
  // any thread that may block). If the store is not usable the window starts empty.
  void load(int64_t now_ms);

  // Single-threaded (the loop thread), like every DedupStore.
  std::optional<bridge::DeliveredOutcome> find(const std::string& key, int64_t now_ms) override;
  void remember(const std::string& key, bridge::DeliveredOutcome outcome, int64_t now_ms) override;
  size_t size() const { return cache_.size(); }

 private:
  Store& store_;
  int64_t window_ms_;
  bridge::MemoryDedupStore cache_;
};

}  // namespace dsb::store
