// The webhook HTTP client's extra CA (deliver::Transport::extra_ca_file, dingtalk.ca_file)
// against a real HTTPS server on 127.0.0.1 whose certificate a test CA signed: trusted for
// the request that carries it, and for no request after it on the same client (no
// carry-over through curl's CA cache, kept-alive connections or TLS session resumption).
#include <catch2/catch.hpp>

#include <condition_variable>
#include <map>
#include <mutex>

#include "deliver/http_client.hpp"
#include "fixtures/test_tls_pki.hpp"
#include "support/stub_http_server.hpp"

using namespace dsb::deliver;
using dsb::test::StubHttpServer;
using dsb::test::TlsIdentity;

namespace {

// Completions from the HTTP thread; waits are bounded.
class Completions {
 public:
  std::function<void(std::vector<Completion>)> handler() {
    return [this](std::vector<Completion> batch) {
      std::lock_guard lock(mutex_);
      for (auto& c : batch) done_[c.id] = std::move(c.response);
      cv_.notify_all();
    };
  }
  Response wait(RequestId id) {
    std::unique_lock lock(mutex_);
    REQUIRE(cv_.wait_for(lock, std::chrono::seconds(10), [&] { return done_.count(id) > 0; }));
    return done_[id];
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<RequestId, Response> done_;
};

Request post(const std::string& url, std::string extra_ca_file = "") {
  Request r;
  r.url = url;
  r.body = R"({"a":1})";
  r.headers = {{"Content-Type", "application/json"}};
  r.timeout = std::chrono::milliseconds(5000);
  r.transport.extra_ca_file = std::move(extra_ca_file);
  return r;
}

TlsIdentity test_server_identity() {
  return {dsb::test::kTestServerCertPem, dsb::test::kTestServerKeyPem};
}

}  // namespace

TEST_CASE("an extra CA is trusted for its own request and for no later one", "[http][tls]") {
  dsb::test::TestCaFile ca;
  StubHttpServer server(test_server_identity());
  Completions done;
  HttpClient client({}, done.handler());

  const Response before = done.wait(client.submit(post(server.url())));
  CHECK(before.status == 0);
  CHECK_THAT(before.error, Catch::Matchers::Contains("certificate"));

  const Response trusted = done.wait(client.submit(post(server.url(), ca.path())));
  CHECK(trusted.status == 200);
  CHECK(trusted.error.empty());

  // Same client, same server: neither curl's CA cache, nor the connection just verified
  // with the extra CA, nor its TLS session may make the test CA count for this one.
  const Response after = done.wait(client.submit(post(server.url())));
  CHECK(after.status == 0);
  CHECK_THAT(after.error, Catch::Matchers::Contains("certificate"));

  const Response again = done.wait(client.submit(post(server.url(), ca.path())));
  CHECK(again.status == 200);
  CHECK(server.requests().size() == 2);  // only the two trusted requests got through
}

TEST_CASE("requests with and without the extra CA at once each keep their own trust",
          "[http][tls]") {
  dsb::test::TestCaFile ca;
  StubHttpServer server(test_server_identity());
  Completions done;
  HttpClient client({}, done.handler());

  std::vector<RequestId> with, without;
  for (int i = 0; i < 4; ++i) {
    with.push_back(client.submit(post(server.url(), ca.path())));
    without.push_back(client.submit(post(server.url())));
  }
  for (RequestId id : with) CHECK(done.wait(id).status == 200);
  for (RequestId id : without) CHECK(done.wait(id).status == 0);
}

TEST_CASE("an extra CA file OpenSSL cannot read fails the request with a reason",
          "[http][tls]") {
  StubHttpServer server(test_server_identity());
  Completions done;
  HttpClient client({}, done.handler());

  const Response response =
      done.wait(client.submit(post(server.url(), "/nonexistent/dsb-extra-ca.pem")));
  CHECK(response.status == 0);
  CHECK_FALSE(response.error.empty());
  // A failure below HTTP always says which kind; none would read as "no failure".
  CHECK(response.failure == Failure::other);
  CHECK(server.requests().empty());
}
