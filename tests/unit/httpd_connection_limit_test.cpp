// ConnectionLimit without sockets: who keeps a slot, who is closed to make room.
#include <catch2/catch.hpp>

#include "httpd/connection_limit.hpp"

using dsb::httpd::ConnectionLimit;

TEST_CASE("connection limit: under the cap every connection is admitted", "[httpd]") {
  ConnectionLimit limit(3);
  CHECK_FALSE(limit.admit(1));
  CHECK_FALSE(limit.admit(2));
  CHECK_FALSE(limit.admit(3));
  CHECK(limit.open() == 3);
  CHECK_FALSE(limit.admit(2));  // told twice: still one slot
  CHECK(limit.open() == 3);
}

TEST_CASE("connection limit: at the cap the oldest idle connection makes room", "[httpd]") {
  ConnectionLimit limit(3);
  for (ConnectionLimit::Id id : {1, 2, 3}) REQUIRE_FALSE(limit.admit(id));

  CHECK(limit.admit(4) == ConnectionLimit::Id{1});
  CHECK(limit.open() == 3);
  limit.closed(1);  // the closed victim's own notice changes nothing
  CHECK(limit.open() == 3);

  limit.answering(2, true);  // mid-response: kept
  CHECK(limit.admit(5) == ConnectionLimit::Id{3});
  limit.answering(2, false);  // answered, idle again, and the oldest
  CHECK(limit.admit(6) == ConnectionLimit::Id{2});
}

TEST_CASE("connection limit: a newcomer is refused while every held one is being answered",
          "[httpd]") {
  ConnectionLimit limit(2);
  REQUIRE_FALSE(limit.admit(1));
  REQUIRE_FALSE(limit.admit(2));
  limit.answering(1, true);
  limit.answering(2, true);
  CHECK(limit.admit(3) == ConnectionLimit::Id{3});
  CHECK(limit.open() == 2);
  limit.closed(3);  // the refused one's close notice: a no-op
  CHECK(limit.open() == 2);
  limit.closed(1);
  CHECK_FALSE(limit.admit(4));
  CHECK(limit.open() == 2);
}

TEST_CASE("connection limit: a flood keeps the cap and ends with the newest held", "[httpd]") {
  ConnectionLimit limit(32);
  size_t closed = 0;
  for (ConnectionLimit::Id id = 1; id <= 2000; ++id) {
    if (auto victim = limit.admit(id)) {
      CHECK(*victim == id - 32);
      ++closed;
    }
    REQUIRE(limit.open() <= 32);
  }
  CHECK(closed == 2000 - 32);
  CHECK_FALSE(limit.admit(2001) == ConnectionLimit::Id{2001});  // a health check gets a slot
}
