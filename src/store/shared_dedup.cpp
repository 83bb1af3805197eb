#include "store/shared_dedup.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "store/persistent_dedup.hpp"

namespace dsb::store {

SharedDedupStore::SharedDedupStore(Backend& backend, int64_t window_ms, int64_t lease_ms, Post post)
    : backend_(backend), window_ms_(window_ms), lease_ms_(lease_ms), post_(std::move(post)) {}

void SharedDedupStore::find(const std::string& key, int64_t now_ms, int64_t claim_ms,
                            Answer answer) {
  ++store_lookups_;
  backend_.claim_dedup(
      key, now_ms - window_ms_, std::max(lease_ms_, claim_ms),
      [post = post_, answer = std::move(answer), key](Result<DedupClaim> claim) mutable {
        bridge::DedupAnswer found;
        if (!claim) {
          log::debug("store", "dedup claim failed; delivering without it",
                    {{"key", key}, {"reason", claim.status().message()}});
        } else if (claim->state == DedupClaim::State::delivered) {
          found = bridge::DedupAnswer::delivered_answer(PersistentDedupStore::decode(claim->record));
        } else if (claim->state == DedupClaim::State::elsewhere) {
          found = bridge::DedupAnswer::elsewhere_answer();
        }
        post([answer = std::move(answer), found = std::move(found)]() mutable {
          answer(std::move(found));
        });
      });
}

void SharedDedupStore::remember(const std::string& key, bridge::DeliveredOutcome outcome,
                                int64_t now_ms) {
  backend_.remember_dedup(PersistentDedupStore::encode(key, outcome, now_ms));
}

void SharedDedupStore::release(const std::string& key) { backend_.release_dedup(key); }

}  // namespace dsb::store
