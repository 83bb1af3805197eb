// Caps how many connections a server holds, so idle or slow clients cannot use up the
// loop's fd table (which the Stream connections share) or lock out the next client.
//
// At the cap, a newly accepted connection makes room by closing the oldest one that is not
// being answered: a health check or a scrape, which sends its request at once, always gets
// a slot, while connections that only sit there are the ones let go. When every held
// connection is being answered, the newcomer is the one refused.
//
// Socket-free: the server says what happens (accepted, answering, closed) and closes what
// admit() names. One thread (the loop's).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <unordered_map>

namespace dsb::httpd {

class ConnectionLimit {
 public:
  using Id = uintptr_t;  // any value that names one open connection (the lws wsi)

  // REQUIRES: max >= 1.
  explicit ConnectionLimit(size_t max) : max_(max) {}

  // `id` was accepted. Returns the connection the caller must close now (the oldest idle
  // one, or `id` itself when every other is being answered); nullopt when under the cap.
  // The one returned is forgotten here: its later closed() is a no-op.
  std::optional<Id> admit(Id id);

  // `id` is writing a response (true) or waiting for its next request (false). Connections
  // being answered are not closed to make room.
  void answering(Id id, bool yes);

  void closed(Id id);

  size_t open() const { return by_id_.size(); }
  size_t max() const { return max_; }

 private:
  struct Entry {
    Id id;
    bool answering;
  };
  size_t max_;
  std::list<Entry> oldest_first_;
  std::unordered_map<Id, std::list<Entry>::iterator> by_id_;
};

}  // namespace dsb::httpd
