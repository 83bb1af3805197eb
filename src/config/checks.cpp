#include "config/checks.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "common/utf8.hpp"

namespace dsb::config {

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

namespace {

bool is_alnum(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

}  // namespace

Result<ListenAddress> parse_listen(std::string_view listen) {
  auto usage = [&] {
    return Result<ListenAddress>::error("must be HOST:PORT (e.g. 127.0.0.1:9180) or \"\" to disable, got " +
                                        quoted(listen));
  };
  std::size_t colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return usage();
  std::string host(listen.substr(0, colon));
  std::string_view port = listen.substr(colon + 1);
  unsigned long value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec == std::errc::invalid_argument || end != port.data() + port.size()) {
    return usage();
  }
  if (ec == std::errc::result_out_of_range || value > 65535) {
    return Result<ListenAddress>::error("port must be between 0 and 65535, got " + std::string(port));
  }
  ListenAddress address;
  address.port = static_cast<int>(value);
  if (host.front() == '[') {
    in6_addr ipv6{};
    if (host.size() < 3 || host.back() != ']' ||
        inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &ipv6) != 1) {
      return Result<ListenAddress>::error(quoted(host) + " is not an IPv6 address in brackets, in " +
                                          quoted(listen));
    }
    address.host = host.substr(1, host.size() - 2);
    address.ipv6 = true;
    return address;
  }
  if (host == "localhost") host = "127.0.0.1";
  in_addr ipv4{};
  if (inet_pton(AF_INET, host.c_str(), &ipv4) != 1) {
    return Result<ListenAddress>::error(
        "the host must be an IPv4 address (all four numbers), [IPv6 address] or localhost, got " +
        quoted(listen) + " (host names are not looked up)");
  }
  address.host = std::move(host);
  return address;
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

Problem check_identifier(std::string_view text) {
  // The first fault wins: a control character before the first invalid sequence is named.
  const std::size_t valid = valid_utf8_prefix(text);
  for (unsigned char c : text.substr(0, valid)) {
    if (c < 0x20 || c == 0x7f) return "must not contain control characters or NUL bytes";
  }
  if (valid < text.size()) return "must be valid UTF-8";
  return std::nullopt;
}

}  // namespace dsb::config
