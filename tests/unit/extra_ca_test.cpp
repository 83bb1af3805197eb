// trust_extra_ca (common/extra_ca.hpp) on a bare curl handle whose CA cache is active:
// Debian's libcurl sets a default CA path, which keeps curl from caching the store, so
// the HTTP client tests never meet the cache there; builds without a CA path do. Here the
// test clears the CA path itself and performs on one handle (one cache) again and again.
#include <catch2/catch.hpp>

#include <curl/curl.h>

#include <memory>
#include <string>

#include "common/extra_ca.hpp"
#include "fixtures/test_tls_pki.hpp"
#include "support/stub_http_server.hpp"

using dsb::test::StubHttpServer;

namespace {

struct Performer {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> easy{curl_easy_init(), &curl_easy_cleanup};

  // HTTP status, or 0 when the transfer failed (`error` then says why).
  long post(const std::string& url, const std::string& extra_ca_file, std::string& error) {
    curl_easy_reset(easy.get());  // keeps the handle's CA cache, connections and sessions
    curl_easy_setopt(easy.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy.get(), CURLOPT_POSTFIELDS, "{}");
    curl_easy_setopt(easy.get(), CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(easy.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy.get(), CURLOPT_CAPATH, nullptr);  // lets curl cache the store
    curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION,
                     +[](char*, size_t size, size_t count, void*) { return size * count; });
    if (dsb::Status trusted = dsb::trust_extra_ca(easy.get(), extra_ca_file); !trusted) {
      error = trusted.message();
      return 0;
    }
    const CURLcode code = curl_easy_perform(easy.get());
    if (code != CURLE_OK) {
      error = curl_easy_strerror(code);
      return 0;
    }
    long status = 0;
    curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &status);
    return status;
  }
};

}  // namespace

TEST_CASE("extra CA: trusted through curl's CA cache, and not left in it", "[tls]") {
  dsb::test::TestCaFile ca;
  StubHttpServer server(dsb::test::TlsIdentity{dsb::test::kTestServerCertPem,
                                               dsb::test::kTestServerKeyPem});
  Performer curl;
  std::string error;

  CHECK(curl.post(server.url(), "", error) == 0);  // fills the cache with the system CAs
  CHECK(curl.post(server.url(), ca.path(), error) == 200);
  CHECK(curl.post(server.url(), "", error) == 0);
  CHECK(curl.post(server.url(), ca.path(), error) == 200);
  CHECK(server.requests().size() == 2);
}
