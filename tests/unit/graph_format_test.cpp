// format graph: the request mapping (frame data -> HTTP request) and the answer mapping
// (HTTP answer -> statusLine response), with the shapes the official SDKs send and read:
// Go plugin/model.go GraphRequest/GraphResponse (encoding/json), Java GraphAPIRequest /
// GraphAPIResponse (fastjson: null members left out, method an enum name, uri a URI),
// Python graph.py GraphRequest.to_dict / GraphResponse.from_dict (None members left out).
#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <map>

#include "config/loader.hpp"
#include "deliver/graph_format.hpp"
#include "fixtures/config/fake_environment.hpp"
#include "deliver/signature.hpp"

using namespace dsb;
using namespace dsb::deliver;
using config::Route;
using stream::Frame;
using stream::FrameType;

namespace {

Frame graph_frame(std::string data) {
  Frame f;
  f.type = FrameType::callback;
  f.headers = {{"messageId", "m-g1"}, {"topic", "/v1.0/graph/api/invoke"}};
  f.data = std::move(data);
  return f;
}

Route graph_route() {
  Route route;
  route.name = "skills";
  route.topic = "/v1.0/graph/api/invoke";
  route.format = config::Format::graph;
  route.urls = {"http://127.0.0.1:8090/skills"};
  route.timeout = std::chrono::milliseconds(3000);
  return route;
}

Result<Request> build(const Route& route, const std::string& data) {
  const Frame frame = graph_frame(data);
  GraphFormat format;
  return format.build({route, route.urls[0], frame, "m-g1", 1700000000000, "cid", "secret"});
}

std::map<std::string, std::string> header_map(const Request& r) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : r.headers) {
    REQUIRE(out.count(k) == 0);  // no header twice
    out[k] = v;
  }
  return out;
}

// What the SDKs' response classes read: statusLine.code an integer, statusLine.reasonPhrase,
// headers a string -> string map and body a string (Go map[string]string / Java
// Map<String,String> / Python dict).
void check_sdk_response_shape(const std::string& reply, int code) {
  rapidjson::Document doc;
  doc.Parse(reply.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  REQUIRE(doc.HasMember("statusLine"));
  REQUIRE(doc["statusLine"].IsObject());
  REQUIRE(doc["statusLine"]["code"].IsInt());
  CHECK(doc["statusLine"]["code"].GetInt() == code);
  REQUIRE(doc["statusLine"]["reasonPhrase"].IsString());
  REQUIRE(doc["headers"].IsObject());
  for (const auto& header : doc["headers"].GetObject()) CHECK(header.value.IsString());
  REQUIRE(doc["body"].IsString());
}

std::string body_of(const std::string& reply) {
  rapidjson::Document doc;
  doc.Parse(reply.c_str());
  return std::string(doc["body"].GetString(), doc["body"].GetStringLength());
}

}  // namespace

TEST_CASE("graph requests as the Go, Java and Python SDKs serialize them all parse", "[graph]") {
  // Go: every member present, headers may be a nil map (null), body "".
  auto go = parse_graph_request(
      R"({"requestLine":{"method":"GET","uri":"/weather?city=%E6%9D%AD"},"headers":null,"body":""})");
  REQUIRE(go);
  CHECK(go.value().method == "GET");
  CHECK(go.value().uri == "/weather?city=%E6%9D%AD");
  CHECK(go.value().headers.empty());
  CHECK(go.value().body.empty());

  // Java (fastjson): body left out when null, method an enum name.
  auto java = parse_graph_request(
      R"({"headers":{"x-plugin-id":"p1","x-ability-key":"k","Content-Type":"application/json"},)"
      R"("requestLine":{"method":"POST","uri":"/summarize"}})");
  REQUIRE(java);
  CHECK(java.value().method == "POST");
  CHECK(java.value().body.empty());
  CHECK(java.value().headers ==
        std::vector<std::pair<std::string, std::string>>{{"x-plugin-id", "p1"},
                                                         {"x-ability-key", "k"},
                                                         {"Content-Type", "application/json"}});

  // Python to_dict: extensions beside the known members, body then headers then requestLine.
  auto python = parse_graph_request(
      R"({"traceId":"t","body":"{\"text\":\"杭州\"}","headers":{},)"
      R"("requestLine":{"method":"PUT","uri":"/notes/1","version":"HTTP/1.1"}})");
  REQUIRE(python);
  CHECK(python.value().method == "PUT");
  CHECK(python.value().body == "{\"text\":\"杭州\"}");
}

TEST_CASE("a graph request becomes a real HTTP request to the base joined with the uri",
          "[graph]") {
  Route route = graph_route();
  route.headers = {{"Authorization", "Bearer local"}};
  auto request = build(route, R"({"requestLine":{"method":"POST","uri":"/weather?city=%E6%9D%AD"},)"
                              R"("headers":{"Content-Type":"text/plain; charset=utf-8",)"
                              R"("X-Plugin-Id":"p1","Connection":"keep-alive","Host":"evil",)"
                              R"("Content-Length":"99","Transfer-Encoding":"chunked",)"
                              R"("Authorization":"Bearer from-frame","X-DingTalk-Topic":"forged",)"
                              R"("Keep-Alive":"1","Upgrade":"h2c","TE":"trailers"},)"
                              R"("body":"杭州 \"weather\"\n"})");
  REQUIRE(request);
  const Request& r = request.value();
  CHECK(r.method == "POST");
  CHECK(r.url == "http://127.0.0.1:8090/skills/weather?city=%E6%9D%AD");
  CHECK(r.body == "杭州 \"weather\"\n");  // byte for byte
  CHECK(r.timeout.count() == 3000);
  CHECK(r.want_response_headers);
  CHECK(header_map(r) == std::map<std::string, std::string>{
                             {"X-DingTalk-Type", "CALLBACK"},
                             {"X-DingTalk-Topic", "/v1.0/graph/api/invoke"},
                             {"X-DingTalk-Message-Id", "m-g1"},
                             {"Idempotency-Key", "m-g1"},
                             {"Authorization", "Bearer local"},  // the route's, not the frame's
                             {"Content-Type", "text/plain; charset=utf-8"},
                             {"X-Plugin-Id", "p1"},
                         });
}

TEST_CASE("graph requests keep their method, and a base with a slash joins with one", "[graph]") {
  Route route = graph_route();
  route.urls = {"http://h:1/"};
  for (const char* method : {"GET", "HEAD", "DELETE", "PATCH", "OPTIONS", "PROPFIND"}) {
    auto r = build(route, std::string(R"({"requestLine":{"method":")") + method +
                              R"(","uri":"/a/b"}})");
    REQUIRE(r);
    CHECK(r.value().method == method);
    CHECK(r.value().url == "http://h:1/a/b");
    CHECK(r.value().body.empty());
  }
  CHECK(join_graph_url("http://h", "/") == "http://h/");
  // Unencoded UTF-8 in a uri is encoded, as a URL needs.
  CHECK(join_graph_url("http://h/s", "/w?city=杭") == "http://h/s/w?city=%E6%9D%AD");
}

TEST_CASE("a frame's accept-encoding is withheld so the service answers identity", "[graph]") {
  // curl does not decode a compressed answer; a gzip body would be "not UTF-8 text".
  auto request = build(graph_route(), R"({"requestLine":{"method":"GET","uri":"/x"},)"
                                      R"("headers":{"Accept-Encoding":"gzip, br",)"
                                      R"("accept-encoding":"deflate","Accept":"text/plain"}})");
  REQUIRE(request);
  auto h = header_map(request.value());
  CHECK(h.count("Accept-Encoding") == 0);
  CHECK(h.count("accept-encoding") == 0);
  CHECK(h.at("Accept") == "text/plain");
}

TEST_CASE("a graph route signs the body it sends like the other formats", "[graph]") {
  Route route = graph_route();
  route.signing_secret = "s3cret";
  auto r = build(route, R"({"requestLine":{"method":"POST","uri":"/x"},"body":"b",)"
                        R"("headers":{"X-Bridge-Signature":"forged"}})");
  REQUIRE(r);
  auto h = header_map(r.value());
  CHECK(h.at("X-Bridge-Timestamp") == "1700000000000");
  CHECK(h.at("X-Bridge-Signature") == bridge_signature("s3cret", "1700000000000", "b"));
}

TEST_CASE("uris that could leave the base are refused", "[graph]") {
  for (const char* uri : {"", "weather", "http://evil/x", "//evil/x", "/a/../b", "/..", "/a/./b",
                          "/.", "/a/%2e%2E/b", "/%2E", "/a/..%2fb", "/a/%2e%2e%5cb", "/a\\b",
                          "/a\tb", "/a b", "/a\x7f", "/a#frag", "/a%00b", "/a/..",
                          // ";params" cut before servlet containers normalise the path
                          "/..;/actuator/env", "/%2e%2e;/admin", "/.;x/", "/a/..;", "/a/.%2E;b/c",
                          "/a/%2e%2e%3bx/y", "/a/x%2f..;p/y"}) {
    INFO(uri);
    CHECK_FALSE(check_graph_uri(uri));
  }
  CHECK_FALSE(check_graph_uri("/" + std::string(kMaxGraphUri, 'a')));
  for (const char* uri : {"/", "/a", "/a/b/", "/a..b", "/.well-known/x", "/a?x=../y", "/a?p=%2e%2e",
                          "/w?city=%E6%9D%AD", "/a%2Fb", "/...", "/a;b/c", "/a/...;x",
                          "/a/..b;c", "/;/x", "/a?x=..;/y"}) {
    INFO(uri);
    CHECK(check_graph_uri(uri));
  }
  auto refused = build(graph_route(), R"({"requestLine":{"method":"GET","uri":"//evil/x"}})");
  REQUIRE_FALSE(refused);
  CHECK(refused.status().message() == "graph request: uri \"//evil/x\" is not an absolute path");
}

TEST_CASE("data that is not a graph request is refused with a short reason", "[graph]") {
  const std::map<std::string, std::string> cases = {
      {"not json", "graph request: data is not JSON"},
      {"[1]", "graph request: data is not a JSON object"},
      {R"({"headers":{}})", "graph request: requestLine is missing"},
      {R"({"requestLine":"GET /"})", "graph request: requestLine is missing"},
      {R"({"requestLine":{"uri":"/"}})", "graph request: requestLine.method is missing"},
      {R"({"requestLine":{"method":"GET"}})", "graph request: requestLine.uri is missing"},
      {R"({"requestLine":{"method":"GET","uri":7}})", "graph request: requestLine.uri is missing"},
      {R"({"requestLine":{"method":"G T","uri":"/"}})",
       "graph request: requestLine.method \"G T\" is not an HTTP method"},
      {R"({"requestLine":{"method":"","uri":"/"}})",
       "graph request: requestLine.method \"\" is not an HTTP method"},
      {R"({"requestLine":{"method":"GET","uri":"/"},"body":{"a":1}})",
       "graph request: body is not a string"},
      {R"({"requestLine":{"method":"GET","uri":"/"},"headers":[]})",
       "graph request: headers is not an object"},
      {R"({"requestLine":{"method":"GET","uri":"/"},"headers":{"a":1}})",
       "graph request: header \"a\" is not a string"},
      {R"({"requestLine":{"method":"GET","uri":"/"},"headers":{"a b":"1"}})",
       "graph request: header name \"a b\" is not valid"},
      {R"({"requestLine":{"method":"GET","uri":"/"},"headers":{"a":"1\r\nX-Injected: 1"}})",
       "graph request: header \"a\" has a control character"},
  };
  for (const auto& [data, reason] : cases) {
    INFO(data);
    auto parsed = parse_graph_request(data);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.status().message() == reason);
  }
  // A 5 MB header, and too many headers.
  const std::string huge = R"({"requestLine":{"method":"GET","uri":"/"},"headers":{"x":")" +
                           std::string(5 * 1024 * 1024, 'a') + "\"}}";
  CHECK_THAT(parse_graph_request(huge).status().message(),
             Catch::Matchers::Contains("headers exceed"));
  std::string many = R"({"requestLine":{"method":"GET","uri":"/"},"headers":{)";
  for (size_t i = 0; i <= kMaxGraphHeaders; ++i) many += (i ? "," : "") + ("\"h" + std::to_string(i) + "\":\"v\"");
  CHECK_FALSE(parse_graph_request(many + "}}"));
  // A null header value is skipped (the Java forwarder skips them too).
  auto nulls = parse_graph_request(R"({"requestLine":{"method":"GET","uri":"/"},"headers":{"a":null}})");
  REQUIRE(nulls);
  CHECK(nulls.value().headers.empty());
}

TEST_CASE("every answer becomes a statusLine response the SDKs' classes read", "[graph]") {
  GraphFormat format;
  const Route route = graph_route();
  Response response;
  response.status = 404;
  response.reason_phrase = "Not Found";
  response.headers = {{"Content-Type", "application/json"}, {"Connection", "close, X-Hop"},
                      {"X-Hop", "dropped"}, {"Set-Cookie", "a=1"}, {"set-cookie", "b=2"},
                      {"Transfer-Encoding", "chunked"}, {"Keep-Alive", "timeout=5"},
                      {"X-Latin1", "caf\xe9"}};
  response.body = R"({"error":"no city 杭州"})";
  ReplyVerdict verdict = format.judge(route, "cid", response);
  CHECK(verdict.delivered);  // the service answered: a 4xx is passed on as a delivery
  CHECK(verdict.reply ==
        R"({"statusLine":{"code":404,"reasonPhrase":"Not Found"},)"
        R"("headers":{"content-type":"application/json","set-cookie":"a=1, b=2"},)"
        R"("body":"{\"error\":\"no city 杭州\"}"})");
  check_sdk_response_shape(verdict.reply, 404);
  CHECK(body_of(verdict.reply) == response.body);

  response.status = 503;
  response.reason_phrase = "";  // HTTP/2 sends none
  response.headers.clear();
  verdict = format.judge(route, "cid", response);
  CHECK_FALSE(verdict.delivered);  // passed on, but a failed delivery
  CHECK(verdict.reason == "webhook returned 503");
  check_sdk_response_shape(verdict.reply, 503);
  CHECK_THAT(verdict.reply, Catch::Matchers::Contains(R"("reasonPhrase":"Service Unavailable")"));

  response.status = 200;
  response.reason_phrase = "OK";
  response.body = "";
  verdict = format.judge(route, "cid", response);
  CHECK(verdict.delivered);
  CHECK(verdict.reply == R"({"statusLine":{"code":200,"reasonPhrase":"OK"},"headers":{},"body":""})");
}

TEST_CASE("the bridge's own failures are 502 and 504 responses with a JSON error body",
          "[graph]") {
  GraphFormat format;
  const Route route = graph_route();
  auto check_failure = [&](Response response, int code, const std::string& error) {
    ReplyVerdict verdict = format.judge(route, "cid", response);
    CHECK_FALSE(verdict.delivered);
    check_sdk_response_shape(verdict.reply, code);
    CHECK(body_of(verdict.reply) == R"({"error":")" + error + R"("})");
    CHECK_THAT(verdict.reply, Catch::Matchers::Contains(R"("content-type":"application/json")"));
  };
  Response refused;
  refused.failure = Failure::unreachable;
  refused.error = "Failed to connect to 127.0.0.1 port 1: Connection refused";
  check_failure(refused, 502, "service unreachable");
  Response slow;
  slow.failure = Failure::timed_out;
  check_failure(slow, 504, "no answer within 3000 ms");
  Response big;
  big.failure = Failure::too_large;
  check_failure(big, 502, "answer too large");
  Response binary;
  binary.status = 200;
  binary.body = std::string("\x89PNG\r\n\x1a\n\xff", 9);
  check_failure(binary, 502, "answer body is not UTF-8 text");

  // A multi-byte sequence cut at the end of the body, or a lone lead byte at its end.
  for (const char* cut : {"ok\xe6\x9d", "\xf0", "a\xf4\x90\x80\x80", "\xed\xa0\x80", "\xc0\xaf"}) {
    INFO(cut);
    CHECK_FALSE(graph_response(200, "OK", {}, cut));
  }
  CHECK(graph_response(200, "OK", {}, std::string("a\0b\xf0\x9f\x98\x80", 7)));

  REQUIRE(format.failure_reply(400, "graph request: body is not a string"));
  check_sdk_response_shape(*format.failure_reply(400, "x"), 400);
  CHECK(format.judges_every_answer());
  CHECK(format.malformed_label() == "graph_request");
  // The other formats keep their error ACKs.
  CHECK_FALSE(format_for(config::Format::raw).failure_reply(504, "x"));
  CHECK_FALSE(format_for(config::Format::raw).judges_every_answer());
  CHECK(&format_for(config::Format::graph) != &format_for(config::Format::raw));
}

TEST_CASE("a graph route loads with a base url and check shows its format", "[graph]") {
  const std::string yaml =
      "dingtalk: {client_id: app, client_secret: shh}\n"
      "routes:\n"
      "  - name: skills\n"
      "    topic: /v1.0/graph/api/invoke\n"
      "    format: graph\n"
      "    url: [\"http://127.0.0.1:8090/skills/\", \"http://127.0.0.1:8091\"]\n";
  auto result = config::load_string(yaml, "bridge.yaml", config::testing::FakeEnvironment{});
  for (const auto& error : result.errors) UNSCOPED_INFO(error.to_string());
  REQUIRE(result.config);
  const Route& route = result.config->apps[0].routes.at(0);
  CHECK(route.format == config::Format::graph);
  CHECK(route.urls.size() == 2);
  CHECK_THAT(config::describe(*result.config), Catch::Matchers::Contains("format graph,"));
}
