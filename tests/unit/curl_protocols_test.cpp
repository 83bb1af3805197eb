// restrict_to_http: a handle given a gopher://, dict://, telnet:// or file:// URL fails
// before it connects, so a listener on the URL's port receives nothing.
#include <catch2/catch.hpp>

#include "common/curl_protocols.hpp"
#include "support/stub_http_server.hpp"

using dsb::restrict_to_http;
using dsb::test::StubHttpServer;

namespace {

CURLcode perform(const std::string& url) {
  CURL* easy = curl_easy_init();
  REQUIRE(easy != nullptr);
  REQUIRE(restrict_to_http(easy).is_ok());
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 2000L);
  curl_easy_setopt(easy, CURLOPT_PROXY, "");
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION,
                   +[](char*, size_t size, size_t count, void*) { return size * count; });
  const CURLcode code = curl_easy_perform(easy);
  curl_easy_cleanup(easy);
  return code;
}

}  // namespace

TEST_CASE("curl handles refuse every scheme but http and https before connecting", "[curl]") {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  StubHttpServer listener;
  const std::string target = "127.0.0.1:" + std::to_string(listener.port());
  for (const std::string& url : {"gopher://" + target + "/_PING%0D%0A", "dict://" + target + "/d:x",
                                "telnet://" + target + "/", std::string("file:///etc/passwd")}) {
    INFO(url);
    CHECK(perform(url) == CURLE_UNSUPPORTED_PROTOCOL);
  }
  CHECK(listener.connections_accepted() == 0);

  CHECK(perform(listener.url()) == CURLE_OK);  // http itself still works
  CHECK(listener.connections_accepted() == 1);
}
