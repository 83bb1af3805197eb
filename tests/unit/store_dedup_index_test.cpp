#include <catch2/catch.hpp>

#include <string>

#include "store/dedup_index.hpp"

using dsb::store::DedupIndex;
using Answer = DedupIndex::Answer;

namespace {
constexpr int64_t kNow = 1'700'000'000'000;
std::string key(int i) { return "event:" + std::to_string(i); }
}  // namespace

TEST_CASE("dedup index: absent until inserted, then plain or stored until it expires",
          "[dedup][index]") {
  DedupIndex index(4);
  CHECK(index.find("event:a", kNow) == Answer::absent);
  index.insert("event:a", true, kNow, kNow + 10'000);
  index.insert("cb:b", false, kNow, kNow + 10'000);
  CHECK(index.find("event:a", kNow + 9'000) == Answer::plain);
  CHECK(index.find("cb:b", kNow + 9'000) == Answer::stored);
  CHECK(index.find("event:c", kNow + 9'000) == Answer::absent);
  // Expiry is kept to the second, rounded up: gone one second after it.
  CHECK(index.find("event:a", kNow + 11'000) == Answer::absent);
}

TEST_CASE("dedup index: inserting a key again updates its kind and keeps the later expiry",
          "[dedup][index]") {
  DedupIndex index(4);
  index.insert("event:a", false, kNow, kNow + 20'000);
  index.insert("event:a", true, kNow + 1'000, kNow + 5'000);
  CHECK(index.find("event:a", kNow + 10'000) == Answer::plain);
  CHECK(index.find("event:a", kNow + 21'000) == Answer::absent);
}

TEST_CASE("dedup index: no false answers at a tenth of its capacity", "[dedup][index]") {
  DedupIndex index(10);  // 8,192 entries
  const int n = static_cast<int>(index.capacity() / 10);
  for (int i = 0; i < n; ++i) index.insert(key(i), i % 2 == 0, kNow, kNow + 60'000);
  for (int i = 0; i < n; ++i) {
    REQUIRE(index.find(key(i), kNow + 1) == (i % 2 == 0 ? Answer::plain : Answer::stored));
  }
  for (int i = n; i < 2 * n; ++i) REQUIRE(index.find(key(i), kNow + 1) == Answer::absent);
  CHECK(index.evictions() == 0);
}

TEST_CASE("dedup index: expired entries make room without an eviction", "[dedup][index]") {
  DedupIndex index(6);  // 512 entries
  const int rounds = 20;
  const int per_round = static_cast<int>(index.capacity() * 3 / 4);
  for (int round = 0; round < rounds; ++round) {
    const int64_t at = kNow + round * 10'000;
    for (int i = 0; i < per_round; ++i) index.insert(key(round * per_round + i), true, at, at + 5'000);
  }
  CHECK(index.evictions() == 0);
  const int64_t last = kNow + (rounds - 1) * 10'000;
  CHECK(index.find(key((rounds - 1) * per_round), last + 1) == Answer::plain);
  CHECK(index.find(key(0), last + 1) == Answer::absent);
}

TEST_CASE("dedup index: past its capacity it evicts and says unknown, never a wrong absent",
          "[dedup][index]") {
  DedupIndex index(4);  // 128 entries
  const int n = 1'000;
  for (int i = 0; i < n; ++i) index.insert(key(i), true, kNow, kNow + 60'000 + i * 1'000);
  CHECK(index.evictions() > 0);
  // Every key inserted is either still known or reported unknown: the store must decide.
  for (int i = 0; i < n; ++i) {
    const Answer answer = index.find(key(i), kNow + 1);
    REQUIRE((answer == Answer::plain || answer == Answer::unknown));
  }
  // Keys never inserted are unknown too while evicted entries could still be alive...
  CHECK(index.find("event:never", kNow + 1) == Answer::unknown);
  // ...and absent once every evicted entry would have expired.
  CHECK(index.find("event:never", kNow + 60'000 + n * 1'000 + 1'000) == Answer::absent);
}

TEST_CASE("dedup index: memory is fixed by its size, not by what it holds", "[dedup][index]") {
  DedupIndex index;
  CHECK(index.capacity() == size_t{8} << DedupIndex::kDefaultBucketBits);
  CHECK(index.bytes() == index.capacity() * 8);
  CHECK(index.bytes() == 8u * 1024 * 1024);
}
