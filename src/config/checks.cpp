#include "config/checks.hpp"

#include <charconv>
#include <cstring>

namespace dsb::config {
namespace {

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

bool is_alnum(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

std::string_view after_scheme(std::string_view url) {
  if (url.starts_with("http://")) return url.substr(7);
  if (url.starts_with("https://")) return url.substr(8);
  return {};
}

}  // namespace

Problem check_url(std::string_view url, bool allow_https) {
  bool scheme_ok = url.starts_with("http://") || (allow_https && url.starts_with("https://"));
  std::string_view rest = after_scheme(url);
  bool host_ok = !rest.empty() && rest[0] != '/' && rest[0] != ':' && rest[0] != '?';
  bool spaces = url.find_first_of(" \t\r\n") != std::string_view::npos;
  if (scheme_ok && host_ok && !spaces) return std::nullopt;
  return std::string(allow_https ? "must be an http:// or https:// URL" : "must be an http:// URL") +
         ", got " + quoted(redact_url(url));
}

Problem check_listen(std::string_view listen) {
  if (listen.empty()) return std::nullopt;
  std::string usage = "must be HOST:PORT (e.g. 127.0.0.1:9180) or \"\" to disable, got " + quoted(listen);
  std::size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return usage;
  std::string_view host = listen.substr(0, colon);
  std::string_view port = listen.substr(colon + 1);
  if (host.front() == '[' ? host.back() != ']' || host.size() < 3
                          : host.find(':') != std::string_view::npos) {
    return usage;
  }
  unsigned long value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec == std::errc::invalid_argument || end != port.data() + port.size()) {
    return usage;
  }
  if (ec == std::errc::result_out_of_range || value > 65535) {
    return "port must be between 0 and 65535, got " + std::string(port);
  }
  return std::nullopt;
}

Problem check_route_name(std::string_view name) {
  if (name.empty()) return "must not be empty";
  for (char c : name) {
    if (!is_alnum(c) && c != '_' && c != '.' && c != '-') {
      return "may contain only letters, digits, \"_\", \".\" and \"-\", got " + quoted(name);
    }
  }
  return std::nullopt;
}

Problem check_aes_key(std::string_view key) {
  bool alphabet_ok = true;
  for (char c : key) alphabet_ok = alphabet_ok && (is_alnum(c) || c == '+' || c == '/');
  if (key.size() == 43 && alphabet_ok) return std::nullopt;
  std::string rule = "must be 43 base64 characters (A-Z, a-z, 0-9, +, /), got ";
  if (key.size() != 43) return rule + std::to_string(key.size());
  return rule + "other characters";
}

Problem check_header_name(std::string_view name) {
  static constexpr const char* kTokenPunctuation = "!#$%&'*+-.^_`|~";
  bool ok = !name.empty();
  for (char c : name) ok = ok && (is_alnum(c) || (c != '\0' && std::strchr(kTokenPunctuation, c)));
  if (ok) return std::nullopt;
  return "is not a valid HTTP header name";
}

Problem check_header_value(std::string_view value) {
  if (value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos) return std::nullopt;
  return "must not contain line breaks";
}

std::string redact_url(std::string_view url) {
  std::string_view rest = after_scheme(url);
  if (rest.empty()) return std::string(url);
  std::size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  std::string_view scheme = url.substr(0, url.size() - rest.size());
  return std::string(scheme) + "***@" + std::string(rest.substr(at + 1));
}

}  // namespace dsb::config
