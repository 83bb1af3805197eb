// The emulator serving several client ids at once (product.md section 12): each one's open
// calls and tokens, its connections listed with their client, pushes and redeliveries that
// stay with one client, and `emulate --client-id` parsing.
#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include "emulator/emulator.hpp"
#include "emulator/gateway.hpp"
#include "emulator/routes.hpp"

using namespace dsb::emulator;
using dsb::httpd::Request;
using dsb::httpd::Response;
using dsb::httpd::Router;

namespace {

struct FakeTransport : Transport {
  std::vector<std::pair<std::string, std::string>> sent;  // connection, payload
  void send(const std::string& c, const std::string& p, bool, int) override { sent.emplace_back(c, p); }
  void fault(const std::string&, Fault) override {}
};

struct Fixture {
  FakeTransport transport;
  Gateway gateway{{"id-a", "secret-a", 0, 0, {{"id-b", "secret-b"}}},
                  {[] { return int64_t{0}; }, [] { return int64_t{1'700'000'000'000}; }},
                  transport};
  Router router;

  Fixture() {
    gateway.set_base_url("http://127.0.0.1:1234");
    add_public_routes(gateway, router);
    add_control_routes(gateway, router);
  }

  Response call(const std::string& method, const std::string& path, const std::string& body = "") {
    Request r;
    r.method = method;
    r.path = path;
    r.body = body;
    r.headers["accept"] = "application/json";
    return router.dispatch(r);
  }

  Response open(const std::string& id, const std::string& secret) {
    return call("POST", "/v1.0/gateway/connections/open",
                R"({"clientId":")" + id + R"(","clientSecret":")" + secret +
                    R"(","subscriptions":[{"type":"EVENT","topic":"*"}]})");
  }

  std::string connect(const std::string& id, const std::string& secret) {
    Response r = open(id, secret);
    REQUIRE(r.status == 200);
    rapidjson::Document doc;
    doc.Parse(r.body.c_str());
    auto info = gateway.spend_ticket(doc["ticket"].GetString());
    REQUIRE(info);
    return gateway.connection_opened(info.value());
  }
};

rapidjson::Document json_of(const Response& r) {
  rapidjson::Document doc;
  doc.Parse(r.body.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  return doc;
}

}  // namespace

TEST_CASE("emulator clients: each client id opens with its own secret only", "[emulator]") {
  Fixture f;
  CHECK(f.open("id-a", "secret-a").status == 200);
  CHECK(f.open("id-b", "secret-b").status == 200);
  CHECK(f.open("id-b", "secret-a").status == 401);
  CHECK(f.open("id-c", "secret-b").status == 401);
  CHECK(f.call("POST", "/v1.0/oauth2/accessToken", R"({"appKey":"id-b","appSecret":"secret-b"})").status == 200);
  CHECK(f.call("POST", "/v1.0/oauth2/accessToken", R"({"appKey":"id-b","appSecret":"secret-a"})").status == 401);
}

TEST_CASE("emulator clients: a push naming a client id goes to that client's connection",
          "[emulator]") {
  Fixture f;
  const std::string a = f.connect("id-a", "secret-a");
  const std::string b = f.connect("id-b", "secret-b");
  auto connections = json_of(f.call("GET", "/emulator/connections"));
  REQUIRE(connections.Size() == 2);
  CHECK(std::string(connections[0]["clientId"].GetString()) == "id-a");
  CHECK(std::string(connections[1]["clientId"].GetString()) == "id-b");

  for (int i = 0; i < 8; ++i) {  // a random pick would land on `a` about half the time
    Response r = f.call("POST", "/emulator/frames", R"({"type":"EVENT","clientId":"id-b"})");
    REQUIRE(r.status == 200);
    CHECK(std::string(json_of(r)["connection"].GetString()) == b);
  }
  Response to_a = f.call("POST", "/emulator/frames", R"({"type":"EVENT","clientId":"id-a"})");
  REQUIRE(to_a.status == 200);
  CHECK(std::string(json_of(to_a)["connection"].GetString()) == a);

  Response unknown = f.call("POST", "/emulator/frames", R"({"type":"EVENT","clientId":"id-c"})");
  CHECK(unknown.status == 409);
  CHECK(std::string(json_of(unknown)["error"].GetString()) == "no open connection of client id-c");
  Response mismatch = f.call("POST", "/emulator/frames",
                             R"({"type":"EVENT","clientId":"id-a","connection":")" + b + R"("})");
  CHECK(mismatch.status == 409);

  // Unanswered frames are redelivered to their own client's connections only.
  f.transport.sent.clear();
  Response redelivered = f.call("POST", "/emulator/redeliver", "{}");
  REQUIRE(redelivered.status == 200);
  REQUIRE(f.transport.sent.size() == 9);
  size_t to_b = 0;
  for (const auto& [connection, payload] : f.transport.sent) to_b += connection == b ? 1 : 0;
  CHECK(to_b == 8);
}

TEST_CASE("emulator clients: --client-id values, ID or ID:SECRET", "[emulator]") {
  Options options;
  REQUIRE(set_clients(options, {}));
  CHECK(options.client_id == "dingemulatorclient");
  CHECK(options.more_clients.empty());

  options.client_secret = "shared";
  REQUIRE(set_clients(options, {"hr", "sales:s2", "ops"}));
  CHECK(options.client_id == "hr");
  CHECK(options.client_secret == "shared");
  CHECK(options.more_clients == std::map<std::string, std::string>{{"sales", "s2"}, {"ops", "shared"}});

  Options twice;
  CHECK(set_clients(twice, {"a", "a:x"}).message() == "--client-id a given twice");
  Options empty;
  CHECK(set_clients(empty, {":x"}).message() == "--client-id: a client id must not be empty");
}
