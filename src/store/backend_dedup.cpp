#include "store/backend_dedup.hpp"

#include "store/persistent_dedup.hpp"

namespace dsb::store {

void BackendDedupStore::find(const std::string& key, int64_t now_ms, Answer answer) {
  backend_.find_dedup(key, now_ms - window_ms_,
                      [post = post_, answer = std::move(answer)](std::optional<DedupRecord> record) {
                        std::optional<bridge::DeliveredOutcome> outcome;
                        if (record) outcome = PersistentDedupStore::decode(*record);
                        post([answer, outcome = std::move(outcome)] { answer(outcome); });
                      });
}

void BackendDedupStore::remember(const std::string& key, bridge::DeliveredOutcome outcome,
                                 int64_t now_ms) {
  backend_.remember_dedup(PersistentDedupStore::encode(key, outcome, now_ms));
}

}  // namespace dsb::store
