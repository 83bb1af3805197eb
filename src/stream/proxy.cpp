#include "stream/proxy.hpp"

#include <cctype>

#include "common/percent.hpp"

namespace dsb::stream {
namespace {

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int hi = hex_digit_value(text[i + 1]);
    const int lo = hex_digit_value(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

}  // namespace

std::string Proxy::curl_url() const { return "http://" + display(); }

std::string Proxy::display() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string Proxy::lws_address() const {
  std::string out;
  if (!username.empty() || !password.empty()) out = username + ":" + password + "@";
  return out + display();
}

Result<Proxy> parse_proxy(std::string_view url) {
  std::string_view rest = url;
  const size_t scheme_end = rest.find("://");
  if (scheme_end != std::string_view::npos) {
    std::string scheme(rest.substr(0, scheme_end));
    for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme != "http") {
      return Result<Proxy>::error("unsupported proxy scheme \"" + scheme +
                                  "\" (only http:// proxies are supported)");
    }
    rest.remove_prefix(scheme_end + 3);
  }
  // Everything after the authority (a trailing "/" or path) is ignored, as curl does.
  const size_t slash = rest.find('/');
  if (slash != std::string_view::npos) rest = rest.substr(0, slash);

  Proxy proxy;
  const size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    const size_t colon = userinfo.find(':');
    auto user = percent_decode(userinfo.substr(0, colon));
    auto pass = percent_decode(colon == std::string_view::npos ? std::string_view{}
                                                               : userinfo.substr(colon + 1));
    if (!user || !pass) return Result<Proxy>::error("bad percent-encoding in proxy credentials");
    proxy.username = std::move(*user);
    proxy.password = std::move(*pass);
  }

  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return Result<Proxy>::error("unterminated [ in proxy host");
    proxy.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return Result<Proxy>::error("junk after ] in proxy host");
      port_text = rest.substr(1);
    }
  } else {
    const size_t colon = rest.find(':');
    proxy.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
  }
  if (proxy.host.empty()) return Result<Proxy>::error("proxy URL has no host");
  if (!port_text.empty() || rest.find(':') != std::string_view::npos) {
    if (port_text.empty() || port_text.size() > 5) return Result<Proxy>::error("bad proxy port");
    int port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9') return Result<Proxy>::error("bad proxy port");
      port = port * 10 + (c - '0');
    }
    if (port < 1 || port > 65535) return Result<Proxy>::error("proxy port out of range");
    proxy.port = port;
  }
  return proxy;
}

Result<std::optional<Proxy>> resolve_proxy(std::string_view configured,
                                           const Getenv& getenv_fn) {
  std::string_view value;
  std::string source;
  if (!configured.empty()) {
    value = configured;
    source = "dingtalk.proxy";
  } else {
    for (const char* name : {"HTTPS_PROXY", "https_proxy"}) {
      const char* env = getenv_fn ? getenv_fn(name) : nullptr;
      if (env != nullptr && *env != '\0') {
        value = env;
        source = name;
        break;
      }
    }
  }
  if (value.empty()) return std::optional<Proxy>{};
  auto parsed = parse_proxy(value);
  if (!parsed) return Status::error(source + ": " + parsed.status().message());
  parsed->source = std::move(source);
  return std::optional<Proxy>{std::move(parsed.value())};
}

}  // namespace dsb::stream
