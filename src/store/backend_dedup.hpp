// bridge::DedupStore straight over a Backend's find_dedup / remember_dedup, with no index in
// memory: every question goes to the store. For shared backends (Redis), where another
// replica's records must be seen at once.
//
// HOOK (issue 14, wt-dedup): the shared dedup with claim_dedup / release_dedup (in-flight
// markers, `elsewhere`) replaces this minimal adapter as store::SharedDedupStore; the
// daemon picks it in make_dedup() (bridge/daemon.cpp).
#pragma once

#include <cstdint>
#include <functional>

#include "bridge/dedup.hpp"
#include "store/backend.hpp"

namespace dsb::store {

class BackendDedupStore : public bridge::DedupStore {
 public:
  // Runs a task on the relay's thread (the daemon: loop.post). Called from the backend's.
  using Post = std::function<void(std::function<void()>)>;

  // REQUIRES: `backend` outlives this object.
  BackendDedupStore(Backend& backend, int64_t window_ms, Post post)
      : backend_(backend), window_ms_(window_ms), post_(std::move(post)) {}

  void find(const std::string& key, int64_t now_ms, Answer answer) override;
  void remember(const std::string& key, bridge::DeliveredOutcome outcome, int64_t now_ms) override;

 private:
  Backend& backend_;
  int64_t window_ms_;
  Post post_;
};

}  // namespace dsb::store
