// bridge::DedupStore over a store shared by replicas (product.md section 12, store.backend
// redis): a redelivery that reaches another replica finds the record and is ACKed without
// a second POST, or learns that a replica is delivering it right now (`elsewhere`).
//
// Every question is a claim (Backend::claim_dedup): the record if there is one, else the
// right to deliver the key for a lease, unless another replica holds it. The relay ends the
// claim with `remember` (the record) or `release` (failed without one). No memory index, as
// PersistentDedupStore keeps: what another replica did, memory cannot know. Outcomes are
// kept in PersistentDedupStore's encoding, so both backends' records read alike.
#pragma once

#include <cstdint>
#include <functional>

#include "bridge/dedup.hpp"
#include "store/backend.hpp"

namespace dsb::store {

class SharedDedupStore : public bridge::DedupStore {
 public:
  // Runs a task on the relay's thread (the daemon: loop.post). Called from the backend's.
  using Post = std::function<void(std::function<void()>)>;

  // `lease_ms`: store.lease, the shortest claim; a delivery that may take longer asks for
  // more (find's claim_ms). REQUIRES: `backend` outlives this object, and `post` drops
  // tasks once their thread is gone.
  SharedDedupStore(Backend& backend, int64_t window_ms, int64_t lease_ms, Post post);

  // Relay thread only, like every DedupStore. Answers always arrive through `post`. A
  // store that cannot answer says `fresh` (a duplicate delivered again is better than an
  // event lost).
  void find(const std::string& key, int64_t now_ms, int64_t claim_ms, Answer answer) override;
  void remember(const std::string& key, bridge::DeliveredOutcome outcome, int64_t now_ms) override;
  void release(const std::string& key) override;

  // Questions sent to the store so far: every one.
  uint64_t store_lookups() const { return store_lookups_; }

 private:
  Backend& backend_;
  int64_t window_ms_;
  int64_t lease_ms_;
  Post post_;
  uint64_t store_lookups_ = 0;
};

}  // namespace dsb::store
