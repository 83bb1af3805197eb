#include "bridge/ordered_queues.hpp"

namespace dsb::bridge {

void OrderedQueues::run(const std::string& key, Start start) {
  auto it = keys_.try_emplace(key).first;
  it->second.waiting.push_back(std::move(start));
  if (!it->second.running && !it->second.draining) start_next(it->first, it->second);
}

void OrderedQueues::finish(const std::string& key) {
  auto it = keys_.find(key);
  if (it == keys_.end()) return;
  it->second.running = false;
  if (!it->second.draining) start_next(it->first, it->second);
}

void OrderedQueues::start_next(const std::string& name, Key& key) {
  key.draining = true;
  while (!key.running && !key.waiting.empty()) {
    Start start = std::move(key.waiting.front());
    key.waiting.pop_front();
    key.running = true;
    start();  // may call run() or finish() for this key: they only queue or clear `running`
  }
  key.draining = false;
  if (!key.running && key.waiting.empty()) keys_.erase(keys_.find(name));
}

size_t OrderedQueues::waiting() const {
  size_t total = 0;
  for (const auto& [name, key] : keys_) total += key.waiting.size();
  return total;
}

}  // namespace dsb::bridge
