#include "openapi/proxy_request.hpp"

#include <algorithm>
#include <cctype>
#include <set>

namespace dsb::openapi {
namespace {

constexpr std::string_view kV1Prefix = "/v1.0/";
constexpr std::string_view kOapiPrefix = "/oapi";

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return std::string(text);
}

// The names a Connection header lists ("close, X-Foo" -> {"close", "x-foo"}).
std::set<std::string> connection_tokens(std::string_view value) {
  std::set<std::string> names;
  while (!value.empty()) {
    const size_t comma = value.find(',');
    names.insert(lower(trim(value.substr(0, comma))));
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return names;
}

void append_query(std::string& url, const std::string& query) {
  if (query.empty()) return;
  url += '?';
  url += query;
}

}  // namespace

Upstream upstream_of(std::string_view path) {
  if (path.starts_with(kV1Prefix)) return Upstream::v1;
  if (path.starts_with(kOapiPrefix) &&
      (path.size() == kOapiPrefix.size() || path[kOapiPrefix.size()] == '/')) {
    return Upstream::oapi;
  }
  return Upstream::none;
}

bool is_hop_by_hop(std::string_view name) {
  static const std::set<std::string, std::less<>> kHopByHop = {
      "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
      "te",         "trailer",    "transfer-encoding", "upgrade"};
  return kHopByHop.contains(lower(name));
}

std::string drop_query_parameter(std::string_view query, std::string_view name) {
  std::string out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view part = query.substr(0, amp);
    const std::string_view key = part.substr(0, part.find('='));
    if (!part.empty() && key != name) {
      if (!out.empty()) out += '&';
      out += part;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

deliver::Request rewrite_request(const httpd::Request& in, const ProxyTarget& target,
                                 const std::string& token) {
  deliver::Request out;
  out.method = in.method;
  out.body = in.body;
  out.timeout = target.timeout;
  out.transport = target.transport;
  out.want_response_headers = true;

  std::string query = drop_query_parameter(in.query, kTokenParameter);
  if (upstream_of(in.path) == Upstream::oapi) {
    out.url = target.oapi_base + in.path.substr(kOapiPrefix.size());
    if (!query.empty()) query += '&';
    query += std::string(kTokenParameter) + "=" + token;
  } else {
    out.url = target.api_base + in.path;
  }
  append_query(out.url, query);

  const auto connection = in.headers.find("connection");
  const std::set<std::string> named =
      connection == in.headers.end() ? std::set<std::string>{} : connection_tokens(connection->second);
  for (const auto& [name, value] : in.headers) {
    const std::string key = lower(name);
    // Expect: 100-continue was this hop's business (lws answered it); the HTTP client sends
    // the body at once.
    if (is_hop_by_hop(key) || named.contains(key) || key == "host" || key == "content-length" ||
        key == "expect" || key == kTokenHeader) {
      continue;
    }
    out.headers.emplace_back(name, value);
  }
  if (upstream_of(in.path) == Upstream::v1) out.headers.emplace_back(kTokenHeader, token);
  return out;
}

httpd::Response rewrite_answer(const deliver::Response& answer) {
  httpd::Response out;
  out.status = answer.status;
  out.body = answer.body;
  out.content_type.clear();
  std::set<std::string> named;
  for (const auto& [name, value] : answer.headers) {
    if (lower(name) == "connection") named.merge(connection_tokens(value));
  }
  for (const auto& [name, value] : answer.headers) {
    const std::string key = lower(name);
    if (is_hop_by_hop(key) || named.contains(key) || key == "content-length") continue;
    if (key == "content-type") {
      out.content_type = value;
      continue;
    }
    out.headers.emplace_back(name, value);
  }
  return out;
}

}  // namespace dsb::openapi
