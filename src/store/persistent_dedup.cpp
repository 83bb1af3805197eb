#include "store/persistent_dedup.hpp"

#include <rapidjson/document.h>

#include <future>

#include "common/json.hpp"

namespace dsb::store {
namespace {

constexpr int kCompleteCode = 200;
constexpr int kPartialCode = 0;

std::string urls_json(const std::vector<std::string>& urls) {
  std::string out = "[";
  for (const std::string& url : urls) {
    if (out.size() > 1) out += ',';
    out += json::quote(url);
  }
  return out + "]";
}

std::vector<std::string> parse_urls(const std::string& text) {
  std::vector<std::string> urls;
  rapidjson::Document doc;
  if (!json::parse(doc, text) || !doc.IsArray()) return urls;
  for (const auto& url : doc.GetArray()) {
    if (url.IsString()) urls.emplace_back(url.GetString(), url.GetStringLength());
  }
  return urls;
}

}  // namespace

PersistentDedupStore::PersistentDedupStore(Store& store, int64_t window_ms, Post post,
                                           unsigned index_bucket_bits)
    : store_(store), window_ms_(window_ms), post_(std::move(post)), index_(index_bucket_bits) {}

DedupRecord PersistentDedupStore::encode(const std::string& key,
                                         const bridge::DeliveredOutcome& outcome,
                                         int64_t now_ms) {
  if (outcome.complete) return {key, kCompleteCode, outcome.reply, now_ms};
  return {key, kPartialCode, urls_json(outcome.delivered_urls), now_ms};
}

bridge::DeliveredOutcome PersistentDedupStore::decode(const DedupRecord& record) {
  bridge::DeliveredOutcome outcome;
  if (record.code == kPartialCode) {
    outcome.complete = false;
    outcome.delivered_urls = parse_urls(record.data);
  } else {
    outcome.reply = record.data;
  }
  return outcome;
}

void PersistentDedupStore::load(int64_t now_ms) {
  std::promise<void> loaded;
  // The store thread fills the index while this thread waits: the future hands it back.
  store_.scan_dedup(
      now_ms - window_ms_,
      [this, now_ms](const DedupRecord& record) {
        if (record.key.find('\n') != std::string::npos) return;  // an old per-URL row
        index_.insert(record.key, decode(record).plain(), now_ms,
                      record.remembered_at_ms + window_ms_);
      },
      [&loaded](const Status&) { loaded.set_value(); });
  loaded.get_future().get();
}

void PersistentDedupStore::find(const std::string& key, int64_t now_ms, int64_t /*claim_ms*/,
                                Answer answer) {
  // One replica: nothing to claim, never `elsewhere`.
  switch (index_.find(key, now_ms)) {
    case DedupIndex::Answer::absent:
      answer(bridge::DedupAnswer::fresh_answer());
      return;
    case DedupIndex::Answer::plain:
      answer(bridge::DedupAnswer::delivered_answer({}));
      return;
    case DedupIndex::Answer::stored:
    case DedupIndex::Answer::unknown:
      break;
  }
  ++store_lookups_;
  store_.find_dedup(key, now_ms - window_ms_,
                    [post = post_, answer = std::move(answer)](std::optional<DedupRecord> record) mutable {
                      bridge::DedupAnswer found;
                      if (record) found = bridge::DedupAnswer::delivered_answer(decode(*record));
                      post([answer = std::move(answer), found = std::move(found)]() mutable {
                        answer(std::move(found));
                      });
                    });
}

void PersistentDedupStore::remember(const std::string& key, bridge::DeliveredOutcome outcome,
                                    int64_t now_ms) {
  index_.insert(key, outcome.plain(), now_ms, now_ms + window_ms_);
  store_.remember_dedup(encode(key, outcome, now_ms));
}

}  // namespace dsb::store
