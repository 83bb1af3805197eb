// bridge::DedupStore kept in the store, so duplicates are recognised across restarts
// (product.md section 4, "Duplicates"), in memory that does not grow with the window.
//
// The relay asks about every frame on the loop thread. A DedupIndex (8 bytes per id, fixed
// size) answers almost every question at once: "not seen" for a new frame, and "seen,
// plain outcome" for the redelivery of an event or robot message delivered everywhere.
// Only what memory cannot tell (a callback's stored reply, the URLs of a partial delivery,
// a miss while the index is overflowing) is read from SQLite on the store thread and
// answered through `post` (back on the loop thread). Every remember is written behind
// through the store thread; rows older than the window are pruned by the Store's
// maintenance.
//
// How an outcome is kept in the dedup table: code 200 and data = the callback's reply
// ("" for plain); code 0 and data = a JSON array of the URLs that took a partial delivery.
// (Rows from earlier versions: code 200 with an event/robot ACK's data read as complete;
// per-URL rows, keyed "key\nURL", are never asked for and age out.)
#pragma once

#include <cstdint>
#include <functional>

#include "bridge/dedup.hpp"
#include "store/dedup_index.hpp"
#include "store/store.hpp"

namespace dsb::store {

class PersistentDedupStore : public bridge::DedupStore {
 public:
  // Runs a task on the relay's thread (the daemon: loop.post). Called from the store thread.
  using Post = std::function<void(std::function<void()>)>;

  // REQUIRES: `store` outlives this object, and `post` drops tasks once their thread is
  // gone (answers to lookups still queued at shutdown are then never delivered).
  PersistentDedupStore(Store& store, int64_t window_ms, Post post,
                       unsigned index_bucket_bits = DedupIndex::kDefaultBucketBits);

  // Indexes the records younger than the window. Blocks until the store thread has
  // answered, so call it once at startup, before the loop runs. If the store is not
  // usable the index starts empty.
  void load(int64_t now_ms);

  // Loop thread only, like every DedupStore.
  void find(const std::string& key, int64_t now_ms, int64_t claim_ms, Answer answer) override;
  void remember(const std::string& key, bridge::DeliveredOutcome outcome, int64_t now_ms) override;

  // Questions memory could not answer, sent to the store so far.
  uint64_t store_lookups() const { return store_lookups_; }
  const DedupIndex& index() const { return index_; }

  // The dedup table's encoding of an outcome (see the header comment).
  static DedupRecord encode(const std::string& key, const bridge::DeliveredOutcome& outcome,
                            int64_t now_ms);
  static bridge::DeliveredOutcome decode(const DedupRecord& record);

 private:
  Store& store_;
  int64_t window_ms_;
  Post post_;
  DedupIndex index_;
  uint64_t store_lookups_ = 0;
};

}  // namespace dsb::store
