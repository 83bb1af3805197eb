#include "config/url.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <charconv>
#include <memory>

namespace dsb::config {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// RFC 3986 reg-name without percent-encoding: what a DNS name or /etc/hosts entry can be,
// plus non-ASCII bytes (an internationalised name; libcurl converts it with libidn2).
bool is_host_char(char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// The scheme's length when `url` starts with one followed by "://", else 0.
std::size_t scheme_length(std::string_view url) {
  if (url.empty() || !is_alpha(url[0])) return 0;
  std::size_t i = 1;
  while (i < url.size() && (is_alpha(url[i]) || is_digit(url[i]) || url[i] == '+' ||
                            url[i] == '-' || url[i] == '.')) {
    ++i;
  }
  return url.substr(i).starts_with("://") ? i : 0;
}

bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Every "%" starts a "%XX" escape: the proxy's credentials are decoded before use.
bool percent_encoding_ok(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') continue;
    if (i + 2 >= text.size() || !is_hex(text[i + 1]) || !is_hex(text[i + 2])) return false;
    i += 2;
  }
  return true;
}

std::string quoted(std::string_view url) { return "\"" + redact_url(url) + "\""; }

// The port after "host:" (RFC 3986 allows an empty one; curl does not, and neither do we).
Result<int> parse_port(std::string_view text, std::string_view url) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  bool digits = !text.empty() && end == text.data() + text.size() && ec != std::errc::invalid_argument;
  for (char c : text) digits = digits && is_digit(c);
  if (!digits) return Result<int>::error("the port must be a number in " + quoted(url));
  if (ec == std::errc::result_out_of_range || value < 1 || value > 65535) {
    return Result<int>::error("port must be between 1 and 65535, got " + std::string(text) + " in " +
                              quoted(url));
  }
  return value;
}

// `host_port` is the authority without userinfo: "name", "name:port", "[v6]" or "[v6]:port".
Status check_host_port(std::string_view host_port, std::string_view url) {
  std::string_view host = host_port;
  std::string_view port;
  bool has_port = false;
  if (host_port.starts_with('[')) {
    std::size_t close = host_port.find(']');
    if (close == std::string_view::npos) return Status::error("unclosed \"[\" in the host of " + quoted(url));
    host = host_port.substr(1, close - 1);
    std::string_view after = host_port.substr(close + 1);
    if (!after.empty() && after[0] != ':') {
      return Status::error("unexpected text after \"]\" in " + quoted(url));
    }
    has_port = !after.empty();
    if (has_port) port = after.substr(1);
    in6_addr address{};
    if (inet_pton(AF_INET6, std::string(host).c_str(), &address) != 1) {
      return Status::error("\"[" + std::string(host) + "]\" is not an IPv6 address in " + quoted(url));
    }
  } else {
    std::size_t colon = host_port.find(':');
    if (colon != std::string_view::npos) {
      host = host_port.substr(0, colon);
      port = host_port.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) return Status::error("no host in " + quoted(url));
    bool numeric = true;
    for (char c : host) {
      if (!is_host_char(c)) {
        return Status::error("the host may contain only letters, digits, \"-\", \".\", \"_\" and \"~\" "
                             "(IPv6 addresses go in brackets) in " + quoted(url));
      }
      numeric = numeric && (is_digit(c) || c == '.');
    }
    // "999.1.1.1" or "127.1" would be looked up as a name and never resolve.
    in_addr address{};
    if (numeric && inet_pton(AF_INET, std::string(host).c_str(), &address) != 1) {
      return Status::error("\"" + std::string(host) + "\" is not an IPv4 address (write all four "
                           "numbers, each 0 to 255) in " + quoted(url));
    }
  }
  if (has_port) {
    Result<int> parsed = parse_port(port, url);
    if (!parsed) return parsed.status();
  }
  return Status::ok();
}

// libcurl parses the URL again for every request; whatever it refuses would fail each
// delivery, so it must fail the config instead.
Status check_with_curl(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> handle(curl_url(), curl_url_cleanup);
  if (!handle) return Status::error("out of memory while checking a URL");
  CURLUcode code = curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0);
  if (code == CURLUE_OK) return Status::ok();
  return Status::error(quoted(url) + " is not a URL libcurl accepts (" + curl_url_strerror(code) + ")");
}

}  // namespace

Result<std::string> parse_url(std::string_view url, UrlKind kind) {
  const bool https_allowed = kind != UrlKind::proxy;
  const std::string expected =
      https_allowed ? "must be an http:// or https:// URL" : "must be an http:// URL";
  for (char c : url) {
    auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) {
      return Result<std::string>::error("must not contain spaces or control characters, got " +
                                        quoted(url));
    }
  }
  std::size_t scheme_end = scheme_length(url);
  std::string normalized(url);
  for (std::size_t i = 0; i < scheme_end; ++i) normalized[i] = lower(normalized[i]);
  std::string_view scheme = std::string_view(normalized).substr(0, scheme_end);
  if (scheme != "http" && !(https_allowed && scheme == "https")) {
    return Result<std::string>::error(expected + ", got " + quoted(url));
  }
  if (url.find('#') != std::string_view::npos) {
    return Result<std::string>::error("must not have a #fragment (it is never sent to the server), got " +
                                      quoted(url));
  }
  std::string_view rest = url.substr(scheme_end + 3);
  std::size_t authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view tail = authority_end == std::string_view::npos ? "" : rest.substr(authority_end);
  std::size_t at = authority.rfind('@');
  std::string_view host_port = at == std::string_view::npos ? authority : authority.substr(at + 1);
  if (at != std::string_view::npos && !percent_encoding_ok(authority.substr(0, at))) {
    return Result<std::string>::error("bad %-encoding in the user:password of " + quoted(url));
  }
  if (Status status = check_host_port(host_port, url); !status) {
    return Result<std::string>::error(status.message());
  }
  if (kind == UrlKind::proxy && !tail.empty() && tail != "/") {
    return Result<std::string>::error("must be only http://[user:pass@]host[:port], got " + quoted(url));
  }
  if (kind == UrlKind::api_base && tail.find('?') != std::string_view::npos) {
    return Result<std::string>::error("must not have a query (paths are appended to it), got " +
                                      quoted(url));
  }
  if (Status status = check_with_curl(normalized); !status) {
    return Result<std::string>::error(status.message());
  }
  return normalized;
}

std::string redact_url(std::string_view url) {
  std::size_t scheme_end = scheme_length(url);
  std::size_t authority_start = scheme_end == 0 ? 0 : scheme_end + 3;
  std::size_t authority_end = url.find_first_of("/?#", authority_start);
  if (authority_end == std::string_view::npos) authority_end = url.size();
  std::string_view authority = url.substr(authority_start, authority_end - authority_start);

  std::string out(url.substr(0, authority_start));
  std::size_t at = authority.rfind('@');
  bool userinfo = at != std::string_view::npos && at > 0;
  out += userinfo ? "***" + std::string(authority.substr(at)) : std::string(authority);

  std::string_view rest = url.substr(authority_end);
  std::size_t fragment = rest.find('#');
  std::string_view before_fragment = rest.substr(0, fragment);
  std::size_t question = before_fragment.find('?');
  out += before_fragment.substr(0, question);
  if (question != std::string_view::npos) {
    // Each parameter keeps its name; a parameter without "=" may itself be the token.
    std::string_view query = before_fragment.substr(question + 1);
    out += '?';
    while (true) {
      std::size_t amp = query.find('&');
      std::string_view param = query.substr(0, amp);
      std::size_t equals = param.find('=');
      if (!param.empty()) {
        out += equals == std::string_view::npos ? "***" : std::string(param.substr(0, equals)) + "=***";
      }
      if (amp == std::string_view::npos) break;
      out += '&';
      query.remove_prefix(amp + 1);
    }
  }
  if (fragment != std::string_view::npos) out += "#***";
  return out;
}

}  // namespace dsb::config
