// The dedup store's memory: a fixed-size table of key fingerprints with their expiry, so
// that the question asked for every frame ("delivered before?") is answered without the
// database. A frame identity costs 8 bytes here, whatever the key and outcome; the
// outcome itself stays in SQLite.
//
// What an answer means:
//   absent   the key was not remembered within the window: certain, unless the table had
//            to evict live entries (see below), in which case the answer is `unknown`.
//   plain    remembered, with the plain outcome (delivered everywhere, nothing to replay):
//            a fingerprint collision makes this wrong with odds ~16 / 2^31 per lookup.
//   stored   remembered, and the outcome (a callback's reply, the URLs of a partial
//            delivery) must be read from the store.
//   unknown  the table was full and dropped live entries that may include this key: ask
//            the store, which is the authority.
//
// Layout: buckets of 8 slots (one cache line); a key goes to the emptier of its two
// buckets, which keeps them even: up to ~70% of the slots fill without an eviction.
// Inserting into two full buckets evicts the entry that expires first, and remembers how
// long an evicted entry would still have lived: until then misses are `unknown`. So memory
// never grows with the rate x window; at a rate beyond the capacity the bridge asks the
// store instead of forgetting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace dsb::store {

class DedupIndex {
 public:
  enum class Answer { absent, plain, stored, unknown };

  // 2^bucket_bits buckets of 8 entries. The table is allocated untouched (calloc): its
  // pages become resident as keys land in them.
  explicit DedupIndex(unsigned bucket_bits = kDefaultBucketBits);

  Answer find(std::string_view key, int64_t now_ms) const;
  // Remembers `key` until `expires_ms`; again for a key already here replaces its entry
  // (keeping the later expiry). Entries expired at `now_ms` are free for reuse.
  void insert(std::string_view key, bool plain, int64_t now_ms, int64_t expires_ms);

  size_t capacity() const { return size_t{kSlots} << bucket_bits_; }
  size_t bytes() const { return capacity() * sizeof(Slot); }
  // Live entries dropped for room so far (each makes misses `unknown` for a while).
  uint64_t evictions() const { return evictions_; }

  // 2^17 x 8 slots x 8 bytes = 8 MiB: ~730,000 ids without an eviction, an hour's window
  // at ~200 frames/s (ten minutes at ~1,200/s); beyond, misses are read from the store.
  static constexpr unsigned kDefaultBucketBits = 17;

 private:
  static constexpr unsigned kSlots = 8;
  struct Slot {
    uint32_t tag = 0;      // 0: free; else fingerprint << 1 | plain
    uint32_t expires = 0;  // seconds after base_ms_, rounded up
  };
  struct Hashed {
    size_t first, second;  // bucket indexes
    uint32_t fingerprint;  // 31 bits, never 0
  };
  struct FreeDeleter {
    void operator()(Slot* slots) const;
  };

  Hashed hash(std::string_view key) const;
  uint32_t seconds(int64_t ms) const;
  Slot* bucket(size_t index) const { return slots_.get() + index * kSlots; }

  unsigned bucket_bits_;
  size_t bucket_mask_;
  std::unique_ptr<Slot[], FreeDeleter> slots_;
  int64_t base_ms_ = -1;  // set by the first insert: expiries are relative to it
  uint32_t uncertain_until_ = 0;  // misses before this (seconds after base) are `unknown`
  uint64_t evictions_ = 0;
};

}  // namespace dsb::store
