// format graph on arbitrary bytes: the input as a graph frame's data goes through the
// request mapping (parse_graph_request, GraphFormat::build), and as a service's answer
// (its lines as headers, itself as the body) through the answer mapping.
//
// Invariants: a refused request has a reason and a 400 reply that is JSON; an accepted one
// becomes a request to the base's subtree with no header that could split the request,
// none of the headers the bridge withholds, and the body byte for byte; every reply the
// answer mapping makes is JSON with the statusLine/headers/body shape the SDKs read.
#include <rapidjson/document.h>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/percent.hpp"
#include "deliver/graph_format.hpp"
#include "fuzz_support.hpp"

using namespace dsb;
using namespace dsb::deliver;

namespace {

constexpr std::string_view kBase = "http://127.0.0.1:8090/skills";

void check_response_shape(const std::string& reply, int code) {
  rapidjson::Document doc;
  doc.Parse(reply.data(), reply.size());
  FUZZ_CHECK(!doc.HasParseError() && doc.IsObject());
  FUZZ_CHECK(doc.HasMember("statusLine") && doc["statusLine"].IsObject());
  FUZZ_CHECK(doc["statusLine"]["code"].IsInt() && doc["statusLine"]["code"].GetInt() == code);
  FUZZ_CHECK(doc["statusLine"]["reasonPhrase"].IsString());
  FUZZ_CHECK(doc.HasMember("headers") && doc["headers"].IsObject());
  for (const auto& header : doc["headers"].GetObject()) FUZZ_CHECK(header.value.IsString());
  FUZZ_CHECK(doc.HasMember("body") && doc["body"].IsString());
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void check_request(std::string_view data) {
  static const GraphFormat format;
  config::Route route;
  route.name = "skills";
  route.topic = "/v1.0/graph/api/invoke";
  route.format = config::Format::graph;
  route.urls = {std::string(kBase)};
  stream::Frame frame;
  frame.type = stream::FrameType::callback;
  frame.headers = {{"messageId", "m1"}, {"topic", "/v1.0/graph/api/invoke"}};
  frame.data = std::string(data);

  Result<GraphRequest> parsed = parse_graph_request(data);
  Result<Request> built = format.build({route, route.urls[0], frame, "m1", 1700000000000, "c", "s"});
  FUZZ_CHECK(parsed.is_ok() == built.is_ok());
  if (!built) {
    FUZZ_CHECK(!built.status().message().empty());
    const auto reply = format.failure_reply(400, built.status().message());
    FUZZ_CHECK(reply.has_value());
    check_response_shape(*reply, 400);
    return;
  }
  const GraphRequest& graph = parsed.value();
  const Request& request = built.value();
  FUZZ_CHECK(check_graph_uri(graph.uri).is_ok());
  FUZZ_CHECK(request.method == graph.method && !request.method.empty());
  FUZZ_CHECK(request.body == graph.body);
  // The uri is appended to the base, never replaces any part of it.
  FUZZ_CHECK(request.url.size() > kBase.size() && request.url.compare(0, kBase.size(), kBase) == 0);
  FUZZ_CHECK(request.url[kBase.size()] == '/' && request.url[kBase.size() + 1] != '/');
  // No path piece a server could take as "." or "..", decoded and with ";params" cut off.
  const std::string path = percent_decoded(graph.uri.substr(0, graph.uri.find('?')));
  for (size_t start = 0; start <= path.size();) {
    size_t end = path.find_first_of("/\\", start);
    if (end == std::string::npos) end = path.size();
    const std::string piece = path.substr(start, end - start);
    const std::string bare = piece.substr(0, piece.find(';'));
    FUZZ_CHECK(bare != "." && bare != "..");
    start = end + 1;
  }
  for (unsigned char c : request.url) FUZZ_CHECK(c > 0x20 && c < 0x7f && c != '\\' && c != '#');
  for (const auto& [name, value] : request.headers) {
    FUZZ_CHECK(!name.empty());
    for (unsigned char c : name) FUZZ_CHECK(c > 0x20 && c < 0x7f && c != ':');
    for (unsigned char c : value) FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0');
    const std::string key = lower(name);
    FUZZ_CHECK(key != "host" && key != "content-length" && key != "transfer-encoding" &&
               key != "connection" && key != "accept-encoding");
  }
}

// The input as an answer: status from the first byte, the rest's lines "name: value" as
// headers, the whole rest as the body.
void check_answer(const uint8_t* data, size_t size) {
  if (size == 0) return;
  static const GraphFormat format;
  config::Route route;
  route.timeout = std::chrono::milliseconds(1000);
  Response response;
  response.status = data[0] % 4 == 0 ? 0 : 100 + data[0] * 2;
  response.failure = response.status == 0 ? static_cast<Failure>(data[0] % 5) : Failure::none;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  response.body = std::string(rest);
  response.reason_phrase = std::string(rest.substr(0, rest.find('\n')));
  size_t start = 0;
  while (start < rest.size()) {
    size_t end = rest.find('\n', start);
    if (end == std::string_view::npos) end = rest.size();
    const std::string_view line = rest.substr(start, end - start);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      response.headers.emplace_back(std::string(line.substr(0, colon)),
                                    std::string(line.substr(colon + 1)));
    }
    start = end + 1;
  }
  const ReplyVerdict verdict = format.judge(route, "c", response);
  FUZZ_CHECK(!verdict.reply.empty());
  FUZZ_CHECK(!verdict.delivered || (response.status != 0 && response.status < 500));
  rapidjson::Document doc;
  doc.Parse(verdict.reply.data(), verdict.reply.size());
  FUZZ_CHECK(!doc.HasParseError() && doc.IsObject() && doc["statusLine"]["code"].IsInt());
  check_response_shape(verdict.reply, doc["statusLine"]["code"].GetInt());
  if (verdict.delivered) {
    FUZZ_CHECK(doc["body"].GetStringLength() == response.body.size());
    FUZZ_CHECK(response.body.compare(0, std::string::npos, doc["body"].GetString(),
                                     doc["body"].GetStringLength()) == 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return dsb::fuzz::guarded([&] {
    check_request(std::string_view(reinterpret_cast<const char*>(data), size));
    check_answer(data, size);
  });
}
