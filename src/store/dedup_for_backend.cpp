#include "store/dedup_for_backend.hpp"

#include "store/store.hpp"

namespace dsb::store {

DedupForBackend::DedupForBackend(const config::Config& config, Backend& backend, Post post) {
  const int64_t window_ms = config.limits.dedup_window.count();
  if (config.store.backend == config::StoreBackend::redis) {
    shared_.emplace(backend, window_ms, config.store.lease.count(), std::move(post));
  } else {
    persistent_.emplace(dynamic_cast<Store&>(backend), window_ms, std::move(post));
  }
}

bridge::DedupStore& DedupForBackend::get() {
  if (shared_) return *shared_;
  return *persistent_;
}

void DedupForBackend::load(int64_t now_ms) {
  if (persistent_) persistent_->load(now_ms);
}

uint64_t DedupForBackend::store_lookups() const {
  return shared_ ? shared_->store_lookups() : persistent_->store_lookups();
}

}  // namespace dsb::store
