// Connection tickets: what the open call hands out and the websocket handshake spends.
// DingTalk's rule (stream-protocol.md 1.2): a ticket opens one connection and is valid 90 s.
#pragma once

#include "common/status.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace dsb::emulator {

struct Subscription {
  std::string type;   // EVENT, CALLBACK or SYSTEM
  std::string topic;  // "*" for EVENT
};

// What an open call declared; a connection opened with its ticket inherits it.
struct ClientInfo {
  std::string client_id;  // whose open call issued the ticket
  std::string ua;
  std::string local_ip;
  std::vector<Subscription> subscriptions;
};

class TicketStore {
 public:
  using Clock = std::function<int64_t()>;  // milliseconds, monotonic
  static constexpr int64_t kDefaultTtlMs = 90'000;

  // `random_ticket` makes the ticket strings; they must be unique and unguessable.
  TicketStore(Clock now_ms, std::function<std::string()> random_ticket,
              int64_t ttl_ms = kDefaultTtlMs);

  std::string issue(ClientInfo info);

  // Spends the ticket. Fails with "unknown ticket", "ticket already used" or "ticket expired".
  Result<ClientInfo> consume(std::string_view ticket);

  // Forgets tickets long past their expiry (spent ones are kept until then, so a reuse is
  // reported as such rather than as unknown).
  void purge();

  size_t size() const { return tickets_.size(); }

 private:
  struct Entry {
    ClientInfo info;
    int64_t issued_ms;
    bool used;
  };
  Clock now_ms_;
  std::function<std::string()> random_ticket_;
  int64_t ttl_ms_;
  std::map<std::string, Entry, std::less<>> tickets_;
};

}  // namespace dsb::emulator
