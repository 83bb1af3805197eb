// The one ACK shape check (emulator/ack_shape.hpp): what it accepts, every rule it names,
// and that every ACK builder the bridge writes with passes it.
#include "emulator/ack_shape.hpp"
#include "stream/frame.hpp"

#include <catch2/catch.hpp>

using dsb::emulator::ack_shape_violations;
using Problems = std::vector<std::string>;

namespace {

// The headers every official SDK writes.
const std::string kHeaders = R"("headers":{"contentType":"application/json","messageId":"m1"})";

}  // namespace

TEST_CASE("ACKs as the official SDKs write them pass the shape check", "[ack_shape]") {
  for (const std::string& text : std::vector<std::string>{
           // Go/Java event ACK; Java's extra `time` header; an error ACK with and without data.
           R"({"code":200,)" + kHeaders + R"(,"message":"OK","data":"{\"status\":\"SUCCESS\"}"})",
           R"({"code":200,"headers":{"contentType":"application/json","messageId":"m1","time":"1"},"message":"ok","data":"{\"response\":null}"})",
           R"({"code":404,)" + kHeaders + R"(,"message":"topic not exist"})",
           R"({"code":500,)" + kHeaders + R"(,"message":"failed","data":"{}"})",
       }) {
    INFO(text);
    CHECK(ack_shape_violations(text).empty());
  }
}

TEST_CASE("the shape check names every rule an ACK breaks", "[ack_shape]") {
  struct Case {
    std::string text;
    Problems problems;
  };
  const std::vector<Case> cases = {
      {"{not json", {"not JSON"}},
      {"[]", {"not a JSON object"}},
      {R"({"code":200,)" + kHeaders + R"(,"message":"OK"})", {"data is missing on a code 200 ACK"}},
      {R"({"code":200,)" + kHeaders + R"(,"message":"OK","data":{"status":"SUCCESS"}})",
       {"data is not a string"}},
      {R"({"code":200,)" + kHeaders + R"(,"message":"OK","data":"SUCCESS"})",
       {"data is not a JSON text"}},
      {R"({"code":400,)" + kHeaders + R"(,"message":"bad","data":null})", {"data is not a string"}},
      {R"({"code":"200",)" + kHeaders + R"(,"message":"OK","data":"{}"})",
       {"code is not an integer"}},
      {R"({"code":200,"headers":{"messageId":"m1"},"message":"OK","data":"{}"})",
       {"headers.contentType is not \"application/json\""}},
      {R"({"code":200,"headers":{"contentType":"text/plain","messageId":""},"message":"OK","data":"{}"})",
       {"headers.messageId is not a non-empty string", "headers.contentType is not \"application/json\""}},
      {R"({"code":200,"headers":{"contentType":"application/json","messageId":"m1","time":1},"message":"OK","data":"{}"})",
       {"header \"time\" is not a string"}},
      {R"({"code":200,"headers":[],"message":"OK","data":"{}"})", {"headers is not an object"}},
      {R"({"code":200,)" + kHeaders + R"(,"data":"{}"})", {"message is not a string"}},
      {R"({"code":200,)" + kHeaders + R"(,"message":null,"data":"{}"})", {"message is not a string"}},
      {R"({"code":200,)" + kHeaders + R"(,"message":"OK","data":"{}","status":"SUCCESS"})",
       {"unexpected member \"status\""}},
      {"{}",
       {"code is not an integer", "headers is not an object", "message is not a string"}},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    CHECK(ack_shape_violations(c.text) == c.problems);
  }
}

TEST_CASE("every ACK the bridge builds passes the shape check", "[ack_shape]") {
  using namespace dsb::stream;
  Frame ping;
  ping.type = FrameType::system;
  ping.headers = {{"messageId", "p1"}, {"topic", "ping"}};
  ping.data = R"({"opaque":"o1"})";
  Frame disconnect = ping;
  disconnect.headers = {{"messageId", "d1"}, {"topic", "disconnect"}};
  disconnect.data.clear();
  for (const Ack& ack : {ack_system(ping), ack_system(disconnect), ack_event("e1", true),
                         ack_event("e2", false, "webhook returned 503"), ack_callback("c1", "null"),
                         ack_callback("c2", R"({"cardData":{}})"), ack_callback("c3", ""),
                         ack_error("x1", 400, "bad data"), ack_error("x2", 404, "no route"),
                         ack_error("x3", 500, "timeout")}) {
    const std::string wire = serialize_ack(ack);
    INFO(wire);
    CHECK(ack_shape_violations(wire).empty());
  }
}
