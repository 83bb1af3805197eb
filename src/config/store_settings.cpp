#include "config/store_settings.hpp"

#include <charconv>

#include "config/units.hpp"

namespace dsb::config {
namespace {

constexpr std::string_view kScheme = "redis://";
constexpr auto kMinLease = std::chrono::milliseconds(1'000);

bool parse_int(std::string_view text, long long min, long long max, long long& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out >= min && out <= max;
}

}  // namespace

Result<RedisEndpoint> parse_redis_url(std::string_view url) {
  if (url.substr(0, kScheme.size()) != kScheme) {
    return Result<RedisEndpoint>::error("must start with redis:// (redis://[:password@]host:port/db)");
  }
  std::string_view rest = url.substr(kScheme.size());
  RedisEndpoint endpoint;
  // The password may contain '@' or '/': the userinfo ends at the LAST '@'.
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const size_t colon = userinfo.find(':');
    const std::string_view user = colon == std::string_view::npos ? std::string_view() : userinfo.substr(0, colon);
    if (!user.empty() && user != "default") {
      return Result<RedisEndpoint>::error(
          "a user name is not supported, only a password (redis://:password@host:port)");
    }
    endpoint.password = std::string(colon == std::string_view::npos ? userinfo : userinfo.substr(colon + 1));
  }
  std::string_view db;
  if (const size_t slash = rest.find('/'); slash != std::string_view::npos) {
    db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  std::string_view host = rest;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {  // [IPv6]:port
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return Result<RedisEndpoint>::error("an IPv6 host needs its closing ']'");
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Result<RedisEndpoint>::error("expected :port after the IPv6 host");
      port = after.substr(1);
      if (port.empty()) return Result<RedisEndpoint>::error("the port is empty");
    }
  } else if (const size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (port.empty()) return Result<RedisEndpoint>::error("the port is empty");
  }
  if (host.empty()) return Result<RedisEndpoint>::error("the host is missing (redis://host:port)");
  endpoint.host = std::string(host);
  long long value = 0;
  if (!port.empty()) {
    if (!parse_int(port, 1, 65535, value)) {
      return Result<RedisEndpoint>::error("the port must be a number from 1 to 65535, got \"" +
                                          std::string(port) + "\"");
    }
    endpoint.port = static_cast<int>(value);
  }
  if (!db.empty()) {
    if (!parse_int(db, 0, 1'000'000, value)) {
      return Result<RedisEndpoint>::error("the database (after /) must be a number, got \"" +
                                          std::string(db) + "\"");
    }
    endpoint.db = static_cast<int>(value);
  }
  return endpoint;
}

std::string redact_redis_url(std::string_view url) {
  const size_t at = url.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  const size_t start = url.substr(0, kScheme.size()) == kScheme ? kScheme.size() : 0;
  if (at < start) return std::string(url);
  return std::string(url.substr(0, start)) + ":***" + std::string(url.substr(at));
}

void read_store(MapReader& root, StoreSettings& out) {
  std::optional<MapReader> m = root.map("store");
  if (!m) return;
  m->reject_unknown({"backend", "url", "url_file", "key_prefix", "lease"});
  if (auto v = m->choice("backend", {"sqlite", "redis"})) {
    out.backend = *v == "redis" ? StoreBackend::redis : StoreBackend::sqlite;
  }
  if (out.backend == StoreBackend::redis) {
    if (auto url = m->required_secret("url")) {
      Result<RedisEndpoint> endpoint = parse_redis_url(*url);
      if (endpoint) {
        out.url = *url;
        out.redis = std::move(endpoint.value());
      } else {
        m->error(m->has("url") ? "url" : "url_file", endpoint.status().message());
      }
    }
  } else {
    for (std::string_view key : {"url", "url_file", "key_prefix", "lease"}) {
      if (m->has(key)) m->error(key, "only used with backend: redis");
    }
    return;
  }
  if (auto v = m->text("key_prefix")) {
    if (v->empty()) m->error("key_prefix", "must not be empty (it keeps the bridge's keys apart)");
    else out.key_prefix = *v;
  }
  if (auto v = m->duration("lease")) {
    if (*v < kMinLease) m->error("lease", "must be at least 1s, got " + format_duration(*v));
    else out.lease = *v;
  }
}

std::string describe_store(const StoreSettings& store, const std::string& state_dir) {
  if (store.backend == StoreBackend::sqlite) return "store: sqlite in " + state_dir + "\n";
  return "store: redis " + redact_redis_url(store.url) + ", key_prefix \"" + store.key_prefix +
         "\", lease " + format_duration(store.lease) + "\n";
}

}  // namespace dsb::config
