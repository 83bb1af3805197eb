// The robot `sign` and card `x-ddpaas-signature` vectors of reference/legacy-http.md 2.5, 3.5.
#include <catch2/catch.hpp>

#include "deliver/signature.hpp"

using namespace dsb::deliver;

TEST_CASE("robot sign vectors R1 and R2", "[legacy][signature]") {
  CHECK(robot_signature("this is a secret", "1577262236757") ==
        "DJrE6qdyVGCQz9z5r2MDuNcNAhwYnuAkyj13cx169CA=");
  CHECK(robot_signature("bridgeAppSecret_0123456789abcdefABCDEF", "1700000000000") ==
        "zXuwuHO10XKHI0TLlCacEmxkCcJlYwDX+E6rjcqqb68=");
  // R1 signs exactly the 30 bytes "1577262236757\nthis is a secret".
  CHECK(robot_signature("this is a secret", "1577262236758") !=
        "DJrE6qdyVGCQz9z5r2MDuNcNAhwYnuAkyj13cx169CA=");
}

TEST_CASE("card signature vector of 3.5", "[legacy][signature]") {
  CHECK(card_signature("example-secret", "1700000000000") ==
        "I85VWQbGCqbDkjEb7rsCEkTKI9QSL3wzLms54MiwXlg=");
  CHECK(card_signature("example-secret", "1700000000001") !=
        "I85VWQbGCqbDkjEb7rsCEkTKI9QSL3wzLms54MiwXlg=");
}
