#include "stream/endpoint.hpp"

#include <cctype>

#include "common/percent.hpp"

namespace dsb::stream {

std::string url_encode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      append_percent_escape(out, c);
    }
  }
  return out;
}

std::string redact_query(std::string_view url) {
  return std::string(url.substr(0, url.find_first_of("?#")));
}

Result<WsTarget> ws_target(std::string_view endpoint, std::string_view ticket) {
  WsTarget target;
  std::string_view rest = endpoint;
  const size_t scheme_end = rest.find("://");
  if (scheme_end == std::string_view::npos) return Result<WsTarget>::error("endpoint has no scheme");
  std::string scheme(rest.substr(0, scheme_end));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme == "wss") {
    target.tls = true;
    target.port = 443;
  } else if (scheme == "ws") {
    target.tls = false;
    target.port = 80;
  } else {
    return Result<WsTarget>::error("unsupported endpoint scheme \"" + scheme + "\"");
  }
  rest.remove_prefix(scheme_end + 3);
  rest = rest.substr(0, rest.find('#'));

  const size_t path_start = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_start);
  std::string path(path_start == std::string_view::npos ? std::string_view{}
                                                        : rest.substr(path_start));
  if (path.empty() || path.front() == '?') path.insert(0, "/");
  if (authority.find('@') != std::string_view::npos) {
    return Result<WsTarget>::error("endpoint must not carry credentials");
  }

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Result<WsTarget>::error("unterminated [ in endpoint");
    target.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Result<WsTarget>::error("junk after ] in endpoint");
      port_text = after.substr(1);
    }
  } else {
    const size_t colon = authority.find(':');
    target.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return Result<WsTarget>::error("endpoint has an empty port");
    }
  }
  if (target.host.empty()) return Result<WsTarget>::error("endpoint has no host");
  if (!port_text.empty()) {
    int port = 0;
    if (port_text.size() > 5) return Result<WsTarget>::error("bad endpoint port");
    for (char c : port_text) {
      if (c < '0' || c > '9') return Result<WsTarget>::error("bad endpoint port");
      port = port * 10 + (c - '0');
    }
    if (port < 1 || port > 65535) return Result<WsTarget>::error("endpoint port out of range");
    target.port = port;
  }

  const std::string host_display =
      target.host.find(':') != std::string::npos ? "[" + target.host + "]" : target.host;
  target.display = scheme + "://" + host_display + ":" + std::to_string(target.port) +
                   redact_query(path);
  path += path.find('?') == std::string::npos ? '?' : '&';
  path += "ticket=";
  path += url_encode(ticket);
  target.path = std::move(path);
  return target;
}

}  // namespace dsb::stream
