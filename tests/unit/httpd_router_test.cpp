#include "httpd/router.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

using namespace dsb::httpd;

TEST_CASE("query strings are split and percent-decoded", "[httpd]") {
  auto args = parse_query("a=1&b=x%20y&c&d=%zz&e=a+b&a=2&&f=%41");
  CHECK(args["a"] == "1");
  CHECK(args["b"] == "x y");
  CHECK(args.count("c") == 1);
  CHECK(args["c"].empty());
  CHECK(args["d"] == "%zz");
  CHECK(args["e"] == "a b");
  CHECK(args["f"] == "A");
  CHECK(parse_query("").empty());
  CHECK(percent_decode("%") == "%");
  CHECK(percent_decode("%4") == "%4");
}

TEST_CASE("routes dispatch by method and exact path", "[httpd]") {
  Router router;
  router.add("GET", "/a", [](const Request& r) { return Response::text(200, "get " + r.arg("x")); });
  router.add("POST", "/a", [](const Request& r) { return Response::text(201, r.body); });
  router.add("GET", "/boom", [](const Request&) -> Response { throw std::runtime_error("x"); });

  Request get;
  get.method = "GET";
  get.path = "/a";
  get.args["x"] = "1";
  CHECK(router.dispatch(get).body == "get 1");

  Request post = get;
  post.method = "POST";
  post.body = "hi";
  Response created = router.dispatch(post);
  CHECK(created.status == 201);
  CHECK(created.body == "hi");

  Request head = get;
  head.method = "HEAD";
  CHECK(router.dispatch(head).status == 200);

  Request put = get;
  put.method = "PUT";
  Response denied = router.dispatch(put);
  CHECK(denied.status == 405);
  REQUIRE(denied.headers.size() == 1);
  CHECK(denied.headers[0].second == "GET, POST");

  Request missing = get;
  missing.path = "/a/";
  CHECK(router.dispatch(missing).status == 404);

  Request boom = get;
  boom.path = "/boom";
  CHECK(router.dispatch(boom).status == 500);
}

TEST_CASE("error responses are JSON", "[httpd]") {
  Response r = Response::error(409, "no \"open\" connection");
  CHECK(r.status == 409);
  CHECK(r.content_type == "application/json");
  CHECK(r.body == R"({"error":"no \"open\" connection"})");
  CHECK(reason_phrase(413) == "Payload Too Large");
}
