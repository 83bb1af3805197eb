#include "emulator/tickets.hpp"

namespace dsb::emulator {

TicketStore::TicketStore(Clock now_ms, std::function<std::string()> random_ticket,
                         int64_t ttl_ms)
    : now_ms_(std::move(now_ms)), random_ticket_(std::move(random_ticket)), ttl_ms_(ttl_ms) {}

std::string TicketStore::issue(ClientInfo info) {
  std::string ticket;
  do {
    ticket = random_ticket_();
  } while (tickets_.count(ticket));
  tickets_.emplace(ticket, Entry{std::move(info), now_ms_(), false});
  return ticket;
}

Result<ClientInfo> TicketStore::consume(std::string_view ticket) {
  auto it = tickets_.find(ticket);
  if (it == tickets_.end()) return Result<ClientInfo>::error("unknown ticket");
  Entry& entry = it->second;
  if (entry.used) return Result<ClientInfo>::error("ticket already used");
  if (now_ms_() - entry.issued_ms >= ttl_ms_) return Result<ClientInfo>::error("ticket expired");
  entry.used = true;
  return entry.info;
}

void TicketStore::purge() {
  const int64_t now = now_ms_();
  for (auto it = tickets_.begin(); it != tickets_.end();) {
    if (now - it->second.issued_ms >= 10 * ttl_ms_) {
      it = tickets_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace dsb::emulator
