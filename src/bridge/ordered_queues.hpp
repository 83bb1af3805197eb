// The per-key FIFO of a route with `order_by` (product.md section 10): deliveries that share
// a key run one at a time, in the order they were put in; different keys run side by side.
// A key is held only while something of it runs or waits, so memory follows the keys in
// use, not every conversation ever seen.
//
// Direct delivery only: the spool keeps its order in the store (store.hpp: due()), which
// survives retries and restarts. Single-threaded: the bridge's thread. Socket-free.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>

namespace dsb::bridge {

class OrderedQueues {
 public:
  using Start = std::function<void()>;

  // Runs `start` now when nothing of `key` runs or waits, else after every earlier start of
  // `key` has finished. `start` must lead to exactly one finish(key), now or later.
  void run(const std::string& key, Start start);
  // The running delivery of `key` ended (succeeded, failed for good): the next one starts.
  // A key with nothing left is forgotten. Finishing an unknown key is a no-op.
  void finish(const std::string& key);
  // Shutdown: every waiting start is dropped unrun and every key forgotten; finish() of a
  // delivery that was running is then a no-op. REQUIRES: not called from inside a start.
  void clear() { keys_.clear(); }

  // Keys with a delivery running or waiting.
  size_t keys() const { return keys_.size(); }
  // Starts waiting for their turn, across all keys.
  size_t waiting() const;

 private:
  struct Key {
    bool running = false;
    bool draining = false;  // start_next() is on the stack for this key: it starts the rest
    std::deque<Start> waiting;
  };

  // Starts waiting ones while none runs (a start may finish at once, in the call); then
  // forgets the key if it is idle. Loops rather than recursing, however many finish at once.
  // `name` is the key's own string in keys_ (a reference survives inserts; an iterator not).
  void start_next(const std::string& name, Key& key);

  std::unordered_map<std::string, Key> keys_;  // node-based: a Key& survives inserts
};

}  // namespace dsb::bridge
