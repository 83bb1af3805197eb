#include "store/dedup_index.hpp"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <new>

namespace dsb::store {
namespace {

// Expiries are seconds after a base taken from the first time seen, minus this margin, so
// a wall clock stepped back by less than a day still compares correctly.
constexpr int64_t kBaseMarginMs = 86'400'000;

uint64_t mix(uint64_t x) {  // splitmix64's finaliser: spreads std::hash's bits
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

void DedupIndex::FreeDeleter::operator()(Slot* slots) const { std::free(slots); }

DedupIndex::DedupIndex(unsigned bucket_bits)
    : bucket_bits_(bucket_bits), bucket_mask_((size_t{1} << bucket_bits) - 1) {
  // calloc, not new Slot[]() : a large calloc maps zero pages without writing them, so the
  // table costs resident memory only where keys have landed.
  void* memory = std::calloc(capacity(), sizeof(Slot));
  if (memory == nullptr) throw std::bad_alloc();
  slots_.reset(static_cast<Slot*>(memory));
}

DedupIndex::Hashed DedupIndex::hash(std::string_view key) const {
  const uint64_t h = mix(std::hash<std::string_view>{}(key));
  Hashed hashed;
  hashed.fingerprint = static_cast<uint32_t>(h >> 33);  // 31 bits
  if (hashed.fingerprint == 0) hashed.fingerprint = 1;
  hashed.first = static_cast<size_t>(h) & bucket_mask_;
  // The second bucket depends on the fingerprint too, so keys sharing a first bucket
  // spread over different second ones.
  hashed.second = (hashed.first ^ static_cast<size_t>(mix(hashed.fingerprint))) & bucket_mask_;
  return hashed;
}

uint32_t DedupIndex::seconds(int64_t ms) const {
  if (base_ms_ < 0 || ms <= base_ms_) return 0;
  const int64_t s = (ms - base_ms_ + 999) / 1000;
  return static_cast<uint32_t>(std::min<int64_t>(s, UINT32_MAX));
}

DedupIndex::Answer DedupIndex::find(std::string_view key, int64_t now_ms) const {
  const uint32_t now = seconds(now_ms);
  const Hashed h = hash(key);
  for (size_t index : {h.first, h.second}) {
    const Slot* slots = bucket(index);
    for (unsigned i = 0; i < kSlots; ++i) {
      if ((slots[i].tag >> 1) == h.fingerprint && slots[i].expires > now) {
        return (slots[i].tag & 1) != 0 ? Answer::plain : Answer::stored;
      }
    }
  }
  return now < uncertain_until_ ? Answer::unknown : Answer::absent;
}

void DedupIndex::insert(std::string_view key, bool plain, int64_t now_ms, int64_t expires_ms) {
  if (base_ms_ < 0) base_ms_ = std::max<int64_t>(0, std::min(now_ms, expires_ms) - kBaseMarginMs);
  const uint32_t now = seconds(now_ms);
  const uint32_t expires = seconds(expires_ms);
  const Hashed h = hash(key);
  const uint32_t tag = h.fingerprint << 1 | (plain ? 1u : 0u);
  // The same key, else a free or expired slot, else the entry that expires first.
  for (size_t index : {h.first, h.second}) {
    Slot* slots = bucket(index);
    for (unsigned i = 0; i < kSlots; ++i) {
      if ((slots[i].tag >> 1) == h.fingerprint) {
        slots[i] = Slot{tag, std::max(slots[i].expires, expires)};
        return;
      }
    }
  }
  // Into the bucket with more room (two choices keep the buckets evenly filled).
  Slot* free_slot[2] = {nullptr, nullptr};
  unsigned free_count[2] = {0, 0};
  Slot* victim = nullptr;
  for (unsigned b = 0; b < 2; ++b) {
    Slot* slots = bucket(b == 0 ? h.first : h.second);
    for (unsigned i = 0; i < kSlots; ++i) {
      if (slots[i].tag == 0 || slots[i].expires <= now) {
        if (free_slot[b] == nullptr) free_slot[b] = &slots[i];
        ++free_count[b];
      } else if (victim == nullptr || slots[i].expires < victim->expires) {
        victim = &slots[i];
      }
    }
  }
  if (free_count[0] + free_count[1] > 0) {
    *free_slot[free_count[1] > free_count[0] ? 1 : 0] = Slot{tag, expires};
    return;
  }
  // Both buckets hold live entries: the one that expires first goes, and misses are
  // `unknown` until it would have expired.
  ++evictions_;
  uncertain_until_ = std::max(uncertain_until_, victim->expires);
  *victim = Slot{tag, expires};
}

}  // namespace dsb::store
