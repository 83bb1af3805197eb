#include "stream/open_call.hpp"

#include "common/text.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/json.hpp"

namespace dsb::stream {
namespace {

void write_string(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// A body excerpt for a log line: bounded, one line.
std::string excerpt(std::string_view body) { return printable_excerpt(body, 200); }

}  // namespace

std::string user_agent() { return std::string("dingtalk-stream-bridge/") + BRIDGE_VERSION; }

std::string open_url(std::string_view api_base) {
  while (!api_base.empty() && api_base.back() == '/') api_base.remove_suffix(1);
  return std::string(api_base) + "/v1.0/gateway/connections/open";
}

std::string open_request_body(const OpenRequest& request) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("clientId");
  write_string(w, request.client_id);
  w.Key("clientSecret");
  write_string(w, request.client_secret);
  w.Key("subscriptions");
  w.StartArray();
  for (const auto& sub : request.subscriptions) {
    w.StartObject();
    w.Key("type");
    write_string(w, sub.type);
    w.Key("topic");
    write_string(w, sub.topic);
    w.EndObject();
  }
  w.EndArray();
  w.Key("ua");
  write_string(w, request.ua);
  if (!request.local_ip.empty()) {
    w.Key("localIp");
    write_string(w, request.local_ip);
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

OpenResponse parse_open_response(long http_status, std::string_view body) {
  OpenResponse out;
  out.http_status = http_status;

  rapidjson::Document doc;
  const bool is_object = json::parse(doc, body) && doc.IsObject();

  if (http_status != 200) {
    out.outcome = (http_status == 401 || http_status == 403) ? OpenOutcome::rejected
                                                             : OpenOutcome::failed;
    std::string detail;
    if (is_object) {
      if (auto message = json::string_member(doc, "message")) detail = std::string(*message);
      if (auto code = json::string_member(doc, "code"); code && !code->empty()) {
        detail = std::string(*code) + (detail.empty() ? "" : ": " + detail);
      }
    }
    if (detail.empty()) detail = excerpt(body);
    out.error = "HTTP " + std::to_string(http_status) + (detail.empty() ? "" : ": " + excerpt(detail));
    return out;
  }

  if (!is_object) {
    out.error = "HTTP 200 with a body that is not a JSON object: " + excerpt(body);
    return out;
  }
  auto endpoint = json::string_member(doc, "endpoint");
  auto ticket = json::string_member(doc, "ticket");
  if (!endpoint || endpoint->empty()) {
    out.error = "HTTP 200 without a non-empty \"endpoint\"";
    return out;
  }
  if (!ticket || ticket->empty()) {
    out.error = "HTTP 200 without a non-empty \"ticket\"";
    return out;
  }
  out.outcome = OpenOutcome::ok;
  out.endpoint = std::string(*endpoint);
  out.ticket = std::string(*ticket);
  return out;
}

}  // namespace dsb::stream
