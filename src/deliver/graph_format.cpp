#include "deliver/graph_format.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "common/json.hpp"
#include "common/percent.hpp"
#include "common/text.hpp"
#include "common/utf8.hpp"
#include "config/checks.hpp"

namespace dsb::deliver {
namespace {

constexpr size_t kMaxMethod = 32;  // the longest registered method (WebDAV's) is 17

void write_string(rapidjson::Writer<rapidjson::StringBuffer>& writer, std::string_view text) {
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool equals_lower(std::string_view text, std::string_view lower_name) {
  return text.size() == lower_name.size() &&
         std::equal(text.begin(), text.end(), lower_name.begin(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

// RFC 9110 section 7.6.1, and proxy-connection which clients still send.
constexpr std::array<std::string_view, 9> kHopByHop = {
    "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
    "te",         "trailer",    "transfer-encoding", "upgrade"};

bool is_hop_by_hop(std::string_view name) {
  return std::any_of(kHopByHop.begin(), kHopByHop.end(),
                     [&](std::string_view hop) { return equals_lower(name, hop); });
}

// The header names a Connection value lists ("close, X-Trace" -> close, x-trace).
std::vector<std::string> connection_tokens(
    const std::vector<std::pair<std::string, std::string>>& headers) {
  std::vector<std::string> tokens;
  for (const auto& [name, value] : headers) {
    if (!equals_lower(name, "connection")) continue;
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      if (comma == std::string::npos) comma = value.size();
      std::string_view token = std::string_view(value).substr(start, comma - start);
      const size_t first = token.find_first_not_of(" \t");
      if (first != std::string_view::npos) {
        token = token.substr(first, token.find_last_not_of(" \t") - first + 1);
        tokens.push_back(lower(token));
      }
      start = comma + 1;
    }
  }
  return tokens;
}

// Frame headers never passed on: the bridge sets them itself (the connection's own, the
// X-DingTalk-* set and the signature headers it vouches for), or curl does. Accept-Encoding
// too: curl does not decode a compressed answer, and the graph reply must carry the body
// as text, so the service is left to answer identity.
bool is_withheld_request_header(std::string_view name) {
  if (is_hop_by_hop(name)) return true;
  for (std::string_view own : {"host", "content-length", "expect", "accept-encoding",
                               "idempotency-key", "x-bridge-timestamp", "x-bridge-signature",
                               "webhook-id", "webhook-timestamp", "webhook-signature"}) {
    if (equals_lower(name, own)) return true;
  }
  return name.size() >= 11 && equals_lower(name.substr(0, 11), "x-dingtalk-");
}

std::string_view standard_reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

// A path segment as a server may see it after decoding: "." or ".." anywhere between "/"
// or "\" separators (an encoded separator can make one), or a NUL. Each piece is cut at
// its first ";" first: servlet containers (Tomcat, Spring) drop ";params" from a segment
// before they normalise the path, so "..;" and "%2e%2e;x" climb out of the base as ".." does.
bool segment_escapes(std::string_view segment) {
  const std::string decoded = percent_decoded(segment);
  if (decoded.find('\0') != std::string::npos) return true;
  size_t start = 0;
  while (start <= decoded.size()) {
    size_t end = decoded.find_first_of("/\\", start);
    if (end == std::string::npos) end = decoded.size();
    std::string_view piece = std::string_view(decoded).substr(start, end - start);
    piece = piece.substr(0, piece.find(';'));
    if (piece == "." || piece == "..") return true;
    start = end + 1;
  }
  return false;
}

Result<GraphRequest> bad(std::string reason) {
  return Result<GraphRequest>::error("graph request: " + std::move(reason));
}

// A quoted, bounded excerpt of untrusted text for a message.
std::string excerpt(std::string_view text) { return "\"" + printable_excerpt(text, 64) + "\""; }

}  // namespace

Result<GraphRequest> parse_graph_request(std::string_view data) {
  rapidjson::Document doc;
  if (!json::parse(doc, data)) return bad("data is not JSON");
  if (!doc.IsObject()) return bad("data is not a JSON object");
  GraphRequest request;

  auto line = doc.FindMember("requestLine");
  if (line == doc.MemberEnd() || !line->value.IsObject()) return bad("requestLine is missing");
  auto method = line->value.FindMember("method");
  if (method == line->value.MemberEnd() || !method->value.IsString()) {
    return bad("requestLine.method is missing");
  }
  request.method.assign(method->value.GetString(), method->value.GetStringLength());
  if (request.method.empty() || request.method.size() > kMaxMethod ||
      config::check_header_name(request.method)) {
    return bad("requestLine.method " + excerpt(request.method) + " is not an HTTP method");
  }
  auto uri = line->value.FindMember("uri");
  if (uri == line->value.MemberEnd() || !uri->value.IsString()) {
    return bad("requestLine.uri is missing");
  }
  request.uri.assign(uri->value.GetString(), uri->value.GetStringLength());

  auto headers = doc.FindMember("headers");
  if (headers != doc.MemberEnd() && !headers->value.IsNull()) {
    if (!headers->value.IsObject()) return bad("headers is not an object");
    size_t bytes = 0;
    for (const auto& header : headers->value.GetObject()) {
      if (header.value.IsNull()) continue;
      std::string_view name(header.name.GetString(), header.name.GetStringLength());
      if (!header.value.IsString()) return bad("header " + excerpt(name) + " is not a string");
      std::string_view value(header.value.GetString(), header.value.GetStringLength());
      bytes += name.size() + value.size();
      if (bytes > kMaxGraphHeaderBytes || request.headers.size() >= kMaxGraphHeaders) {
        return bad("headers exceed " + std::to_string(kMaxGraphHeaders) + " or " +
                   std::to_string(kMaxGraphHeaderBytes) + " bytes");
      }
      if (config::check_header_name(name)) return bad("header name " + excerpt(name) + " is not valid");
      if (config::check_header_value(value)) {
        return bad("header " + excerpt(name) + " has a control character");
      }
      request.headers.emplace_back(name, value);
    }
  }

  auto body = doc.FindMember("body");
  if (body != doc.MemberEnd() && !body->value.IsNull()) {
    if (!body->value.IsString()) return bad("body is not a string");
    request.body.assign(body->value.GetString(), body->value.GetStringLength());
  }

  if (Status status = check_graph_uri(request.uri); !status) return bad(status.message());
  return request;
}

Status check_graph_uri(std::string_view uri) {
  if (uri.size() > kMaxGraphUri) {
    return Status::error("uri is longer than " + std::to_string(kMaxGraphUri) + " bytes");
  }
  if (uri.empty() || uri.front() != '/' || uri.starts_with("//")) {
    return Status::error("uri " + excerpt(uri) + " is not an absolute path");
  }
  for (unsigned char c : uri) {
    if (c < 0x20 || c == 0x7f || c == ' ' || c == '\\' || c == '#') {
      return Status::error("uri " + excerpt(uri) +
                           " has a control character, space, backslash or \"#\"");
    }
  }
  const std::string_view path = uri.substr(0, uri.find('?'));
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (segment_escapes(path.substr(start, end - start))) {
      return Status::error("uri " + excerpt(uri) + " has a \".\" or \"..\" segment");
    }
    start = end + 1;
  }
  return Status::ok();
}

std::string join_graph_url(std::string_view base, std::string_view uri) {
  if (base.ends_with('/')) base.remove_suffix(1);
  std::string url(base);
  url.reserve(base.size() + uri.size());
  for (unsigned char c : uri) {
    if (c >= 0x80) {
      append_percent_escape(url, c);
    } else {
      url += static_cast<char>(c);
    }
  }
  return url;
}

Result<std::string> graph_response(int status, std::string_view reason_phrase,
                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                   std::string_view body) {
  // Names in first-seen order, values of repeats joined.
  std::vector<std::pair<std::string, std::string>> merged;
  const std::vector<std::string> listed = connection_tokens(headers);
  for (const auto& [name, value] : headers) {
    std::string key = lower(name);
    if (is_hop_by_hop(key) || std::find(listed.begin(), listed.end(), key) != listed.end()) continue;
    auto it = std::find_if(merged.begin(), merged.end(),
                           [&](const auto& entry) { return entry.first == key; });
    if (it == merged.end()) {
      merged.emplace_back(std::move(key), value);
    } else {
      it->second += ", ";
      it->second += value;
    }
  }

  if (!is_utf8(body)) return Result<std::string>::error("answer body is not UTF-8 text");
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("statusLine");
  writer.StartObject();
  writer.Key("code");
  writer.Int(status);
  writer.Key("reasonPhrase");
  // A reason that is not UTF-8 (obsolete text) is replaced by the standard one.
  write_string(writer, !reason_phrase.empty() && is_utf8(reason_phrase) ? reason_phrase
                                                                         : standard_reason(status));
  writer.EndObject();
  writer.Key("headers");
  writer.StartObject();
  for (const auto& [name, value] : merged) {
    if (!is_utf8(name) || !is_utf8(value)) continue;
    write_string(writer, name);
    write_string(writer, value);
  }
  writer.EndObject();
  writer.Key("body");
  write_string(writer, body);
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string graph_error_response(int status, std::string_view reason) {
  rapidjson::StringBuffer body_buffer;
  rapidjson::Writer<rapidjson::StringBuffer> body_writer(body_buffer);
  body_writer.StartObject();
  body_writer.Key("error");
  // json::quote-style safety: a reason quoting untrusted bytes is made printable first.
  const std::string printable = printable_excerpt(reason, 512);
  body_writer.String(printable.data(), static_cast<rapidjson::SizeType>(printable.size()));
  body_writer.EndObject();
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"content-type", "application/json"}};
  // Printable ASCII only, so this cannot fail.
  return graph_response(status, standard_reason(status), headers,
                        std::string_view(body_buffer.GetString(), body_buffer.GetSize()))
      .value();
}

Result<Request> GraphFormat::build(const DeliveryInput& input) const {
  Result<GraphRequest> parsed = parse_graph_request(input.frame.data);
  if (!parsed) return Result<Request>::error(parsed.status().message());
  GraphRequest& graph = parsed.value();

  Request request;
  request.method = std::move(graph.method);
  request.url = join_graph_url(input.url, graph.uri);
  request.timeout = input.route.timeout;
  request.body = std::move(graph.body);
  request.want_response_headers = true;
  request.headers.emplace_back("X-DingTalk-Type",
                               std::string(stream::frame_type_name(input.frame.type)));
  for (auto [name, value] : {std::pair{"X-DingTalk-Topic", input.frame.topic()},
                             std::pair{"X-DingTalk-Message-Id", input.frame.message_id()},
                             std::pair{"Idempotency-Key", input.idempotency_key}}) {
    if (!value.empty()) request.headers.emplace_back(name, std::string(value));
  }
  // The route's static headers and signature come before the frame's, so a frame cannot
  // replace them: the operator's Authorization for the service is the one sent.
  finish_request(input.route, input.idempotency_key, input.now_ms, request);
  for (auto& [name, value] : graph.headers) {
    if (is_withheld_request_header(name) || has_header(request, name)) continue;
    request.headers.emplace_back(std::move(name), std::move(value));
  }
  return request;
}

ReplyVerdict GraphFormat::judge(const config::Route& route, std::string_view,
                                const Response& response) const {
  if (response.status == 0) {
    const std::string reason = "webhook failed: " + response.error;
    switch (response.failure) {
      case Failure::timed_out:
        return ReplyVerdict::failed(
            reason, graph_error_response(504, "no answer within " +
                                                  std::to_string(route.timeout.count()) + " ms"));
      case Failure::unreachable:
        return ReplyVerdict::failed(reason, graph_error_response(502, "service unreachable"));
      case Failure::too_large:
        return ReplyVerdict::failed(reason, graph_error_response(502, "answer too large"));
      case Failure::none:
      case Failure::other: break;
    }
    return ReplyVerdict::failed(reason, graph_error_response(502, "no usable answer"));
  }
  Result<std::string> reply =
      graph_response(response.status, response.reason_phrase, response.headers, response.body);
  if (!reply) {
    return ReplyVerdict::failed("webhook " + reply.status().message(),
                                graph_error_response(502, reply.status().message()));
  }
  if (response.status >= 500) {
    return ReplyVerdict::failed("webhook returned " + std::to_string(response.status),
                                std::move(reply.value()));
  }
  return ReplyVerdict::ok(std::move(reply.value()));
}

}  // namespace dsb::deliver
