#include "emulator/tickets.hpp"

#include <catch2/catch.hpp>

using dsb::emulator::ClientInfo;
using dsb::emulator::TicketStore;

namespace {

struct FakeClock {
  int64_t now = 1'000'000;
};

TicketStore make_store(FakeClock& clock) {
  int n = 0;
  return TicketStore([&clock] { return clock.now; },
                     [n]() mutable { return "ticket-" + std::to_string(++n); });
}

}  // namespace

TEST_CASE("a ticket opens one connection and carries its open call's info", "[emulator]") {
  FakeClock clock;
  TicketStore store = make_store(clock);
  ClientInfo info;
  info.ua = "ua/1";
  info.subscriptions = {{"EVENT", "*"}};
  std::string ticket = store.issue(info);

  auto first = store.consume(ticket);
  REQUIRE(first);
  CHECK(first->ua == "ua/1");
  REQUIRE(first->subscriptions.size() == 1);
  CHECK(first->subscriptions[0].topic == "*");

  auto again = store.consume(ticket);
  REQUIRE_FALSE(again);
  CHECK(again.status().message() == "ticket already used");
}

TEST_CASE("tickets expire 90 s after issue", "[emulator]") {
  FakeClock clock;
  TicketStore store = make_store(clock);
  std::string early = store.issue({});
  std::string late = store.issue({});

  clock.now += 89'999;
  CHECK(store.consume(early));
  clock.now += 1;
  auto expired = store.consume(late);
  REQUIRE_FALSE(expired);
  CHECK(expired.status().message() == "ticket expired");
}

TEST_CASE("unknown tickets are refused and old ones are purged", "[emulator]") {
  FakeClock clock;
  TicketStore store = make_store(clock);
  CHECK(store.consume("nope").status().message() == "unknown ticket");
  std::string ticket = store.issue({});
  REQUIRE(store.consume(ticket));
  store.purge();
  CHECK(store.size() == 1);  // a spent ticket is remembered so reuse reads as reuse
  clock.now += 10 * TicketStore::kDefaultTtlMs;
  store.purge();
  CHECK(store.size() == 0);
}

TEST_CASE("issue never hands out a ticket twice", "[emulator]") {
  FakeClock clock;
  int calls = 0;
  TicketStore store([&clock] { return clock.now; },
                    [&calls] { return ++calls < 3 ? std::string("same") : "other" + std::to_string(calls); });
  CHECK(store.issue({}) == "same");
  CHECK(store.issue({}) == "other3");
}
