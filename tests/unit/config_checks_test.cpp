// The value parsers of src/config/checks.hpp and url.hpp on their own: what they accept is
// exactly what `run` can use (the admin server binds a ListenAddress, libcurl takes the
// URL), and what they print never carries a secret.
#include <catch2/catch.hpp>

#include "config/checks.hpp"
#include "fixtures/config/test_ca_pem.hpp"

using dsb::config::check_ca_bundle;
using dsb::config::check_identifier;
using dsb::config::ListenAddress;
using dsb::config::parse_listen;
using dsb::config::parse_url;
using dsb::config::redact_url;
using dsb::config::UrlKind;

TEST_CASE("admin.listen accepts IPv4, bracketed IPv6 and localhost with a port", "[config]") {
  auto v4 = parse_listen("127.0.0.1:9180");
  REQUIRE(v4.is_ok());
  CHECK(v4.value() == ListenAddress{"127.0.0.1", 9180, false});
  CHECK(v4->to_string() == "127.0.0.1:9180");

  auto any = parse_listen("0.0.0.0:0");
  REQUIRE(any.is_ok());
  CHECK(any->port == 0);

  auto v6 = parse_listen("[::1]:65535");
  REQUIRE(v6.is_ok());
  CHECK(v6.value() == ListenAddress{"::1", 65535, true});
  CHECK(v6->to_string() == "[::1]:65535");

  auto local = parse_listen("localhost:80");
  REQUIRE(local.is_ok());
  CHECK(local->host == "127.0.0.1");
}

TEST_CASE("admin.listen refuses what the admin server could not bind as written", "[config]") {
  const std::string names = "the host must be an IPv4 address (all four numbers), [IPv6 address] or "
                            "localhost, got ";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"9180", "must be HOST:PORT (e.g. 127.0.0.1:9180) or \"\" to disable, got \"9180\""},
      {":9180", "must be HOST:PORT (e.g. 127.0.0.1:9180) or \"\" to disable, got \":9180\""},
      {"127.0.0.1:", "must be HOST:PORT (e.g. 127.0.0.1:9180) or \"\" to disable, got \"127.0.0.1:\""},
      {"127.0.0.1:-1", "must be HOST:PORT (e.g. 127.0.0.1:9180) or \"\" to disable, got \"127.0.0.1:-1\""},
      {"127.0.0.1:80x", "must be HOST:PORT (e.g. 127.0.0.1:9180) or \"\" to disable, got \"127.0.0.1:80x\""},
      {"127.0.0.1:65536", "port must be between 0 and 65535, got 65536"},
      // The four of issue 12: each passed `check` and made `run` exit 1.
      {"myhost:9180", names + "\"myhost:9180\" (host names are not looked up)"},
      {"127.1:9180", names + "\"127.1:9180\" (host names are not looked up)"},
      {"[127.0.0.1]:9180", "\"[127.0.0.1]\" is not an IPv6 address in brackets, in \"[127.0.0.1]:9180\""},
      {"999.1.1.1:9180", names + "\"999.1.1.1:9180\" (host names are not looked up)"},
      {"::1:9180", names + "\"::1:9180\" (host names are not looked up)"},
      {"[nope]:9180", "\"[nope]\" is not an IPv6 address in brackets, in \"[nope]:9180\""},
      {"[::1:9180", "\"[::1\" is not an IPv6 address in brackets, in \"[::1:9180\""},
  };
  for (const auto& [listen, message] : cases) {
    INFO(listen);
    auto parsed = parse_listen(listen);
    REQUIRE_FALSE(parsed.is_ok());
    CHECK(parsed.status().message() == message);
  }
}

TEST_CASE("URLs: accepted forms come back with the scheme lower-cased", "[config]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x"},
      {"HTTP://127.0.0.1/x", "http://127.0.0.1/x"},
      {"Https://Hooks.Example/x?a=1&b", "https://Hooks.Example/x?a=1&b"},
      {"http://user:p%40ss@h:1/x", "http://user:p%40ss@h:1/x"},
      {"http://[::1]:65535/x", "http://[::1]:65535/x"},
      {"http://localhost", "http://localhost"},
      {"http://my_host.internal/", "http://my_host.internal/"},
  };
  for (const auto& [url, normalized] : cases) {
    INFO(url);
    auto parsed = parse_url(url, UrlKind::webhook);
    INFO((parsed ? std::string() : parsed.status().message()));
    REQUIRE(parsed.is_ok());
    CHECK(parsed.value() == normalized);
  }
}

TEST_CASE("URLs: the kind decides schemes, paths and queries", "[config]") {
  CHECK(parse_url("https://p:3128", UrlKind::proxy).status().message() ==
        "must be an http:// URL, got \"https://p:3128\"");
  CHECK(parse_url("http://p:3128/", UrlKind::proxy).is_ok());
  CHECK(parse_url("http://p:3128/path", UrlKind::proxy).status().message() ==
        "must be only http://[user:pass@]host[:port], got \"http://p:3128/path\"");
  CHECK(parse_url("https://api.example/base", UrlKind::api_base).is_ok());
  CHECK(parse_url("https://api.example/?k=v", UrlKind::api_base).status().message() ==
        "must not have a query (paths are appended to it), got \"https://api.example/?k=***\"");
  CHECK(parse_url("socks5://u:pw@p:1", UrlKind::webhook).status().message() ==
        "must be an http:// or https:// URL, got \"socks5://***@p:1\"");
  CHECK(parse_url("127.0.0.1:8080/x", UrlKind::webhook).status().message() ==
        "must be an http:// or https:// URL, got \"127.0.0.1:8080/x\"");
  CHECK(parse_url("http://u:p%zz@p:1", UrlKind::proxy).status().message() ==
        "bad %-encoding in the user:password of \"http://***@p:1\"");
  CHECK(parse_url("http://h:0/x", UrlKind::webhook).status().message() ==
        "port must be between 1 and 65535, got 0 in \"http://h:0/x\"");
}

TEST_CASE("redact_url masks userinfo of any scheme, query values and fragments", "[config]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"http://h/x", "http://h/x"},
      {"https://user:pw@h:1/x", "https://***@h:1/x"},
      {"socks5://user:hunter2@p:1080", "socks5://***@p:1080"},
      {"ftp://u@h/", "ftp://***@h/"},
      {"user:pw@proxy:3128", "***@proxy:3128"},  // HTTPS_PROXY without a scheme
      {"http://h/x?access_token=abc&x=1", "http://h/x?access_token=***&x=***"},
      {"http://h/x?abc123secret", "http://h/x?***"},
      {"http://h/x?a=1&&b=", "http://h/x?a=***&&b=***"},
      {"http://u:p@h/x?t=s#frag", "http://***@h/x?t=***#***"},
      {"http://h/p@th", "http://h/p@th"},  // an "@" in the path is no userinfo
      {"http://@h/", "http://@h/"},
      {"", ""},
      {"not a url", "not a url"},
  };
  for (const auto& [url, redacted] : cases) {
    INFO(url);
    CHECK(redact_url(url) == redacted);
  }
}

TEST_CASE("identifiers must be UTF-8 without control characters", "[config]") {
  CHECK_FALSE(check_identifier("dingappkey"));
  CHECK_FALSE(check_identifier("app\xc3\xa9"));           // é
  CHECK_FALSE(check_identifier("\xe4\xba\x8b\xe4\xbb\xb6"));  // 事件
  CHECK_FALSE(check_identifier("\xf0\x9f\x98\x80"));      // U+1F600
  CHECK(check_identifier(std::string("a\0b", 3)) == "must not contain control characters or NUL bytes");
  CHECK(check_identifier("a\tb") == "must not contain control characters or NUL bytes");
  CHECK(check_identifier("\xff") == "must be valid UTF-8");
  CHECK(check_identifier("\xc3") == "must be valid UTF-8");          // truncated
  CHECK(check_identifier("\xc0\xaf") == "must be valid UTF-8");      // overlong "/"
  CHECK(check_identifier("\xed\xa0\x80") == "must be valid UTF-8");  // surrogate
  CHECK(check_identifier("\xf4\x90\x80\x80") == "must be valid UTF-8");  // above U+10FFFF
}

TEST_CASE("ca_file content must hold a PEM certificate OpenSSL reads", "[config]") {
  CHECK_FALSE(check_ca_bundle(dsb::config::testing::kTestCaPem));
  CHECK_FALSE(check_ca_bundle(std::string("# a comment line\n") + dsb::config::testing::kTestCaPem +
                              dsb::config::testing::kTestCaPem));
  CHECK(check_ca_bundle("") == "contains no PEM certificate (\"-----BEGIN CERTIFICATE-----\")");
  CHECK(check_ca_bundle("just text\n") == "contains no PEM certificate (\"-----BEGIN CERTIFICATE-----\")");
  CHECK(check_ca_bundle("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n") ==
        "is not a PEM certificate bundle (OpenSSL cannot read it)");
}
