// The dedup store the daemon hands the relay, chosen by `store.backend` (product.md
// section 12): sqlite keeps PersistentDedupStore (one replica: a memory index answers most
// questions), redis SharedDedupStore (replicas share the records and the claims, so every
// question goes to Redis).
#pragma once

#include <cstdint>
#include <optional>

#include "config/config.hpp"
#include "store/backend.hpp"
#include "store/persistent_dedup.hpp"
#include "store/shared_dedup.hpp"

namespace dsb::store {

class DedupForBackend {
 public:
  using Post = std::function<void(std::function<void()>)>;

  // REQUIRES: `backend` is a store::Store unless config.store.backend is redis, and it
  // outlives this object.
  DedupForBackend(const config::Config& config, Backend& backend, Post post);

  bridge::DedupStore& get();
  // Startup, before the loop runs: sqlite fills its index; a shared store has none.
  void load(int64_t now_ms);
  // Questions sent to the store so far (dsb_dedup_store_lookups_total).
  uint64_t store_lookups() const;

 private:
  std::optional<PersistentDedupStore> persistent_;
  std::optional<SharedDedupStore> shared_;
};

}  // namespace dsb::store
