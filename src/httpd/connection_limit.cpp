#include "httpd/connection_limit.hpp"

namespace dsb::httpd {

std::optional<ConnectionLimit::Id> ConnectionLimit::admit(Id id) {
  if (by_id_.count(id) != 0) return std::nullopt;  // told twice: already held
  if (by_id_.size() < max_) {
    by_id_.emplace(id, oldest_first_.insert(oldest_first_.end(), Entry{id, false}));
    return std::nullopt;
  }
  for (auto it = oldest_first_.begin(); it != oldest_first_.end(); ++it) {
    if (it->answering) continue;
    const Id victim = it->id;
    by_id_.erase(victim);
    oldest_first_.erase(it);
    by_id_.emplace(id, oldest_first_.insert(oldest_first_.end(), Entry{id, false}));
    return victim;
  }
  return id;
}

void ConnectionLimit::answering(Id id, bool yes) {
  auto it = by_id_.find(id);
  if (it != by_id_.end()) it->second->answering = yes;
}

void ConnectionLimit::closed(Id id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  oldest_first_.erase(it->second);
  by_id_.erase(it);
}

}  // namespace dsb::httpd
