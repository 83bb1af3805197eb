// The webhook HTTP client against a real socket on 127.0.0.1: statuses, bodies, headers,
// failures below HTTP, timeouts, keep-alive reuse, and completion of everything at shutdown.
#include <catch2/catch.hpp>

#include <pthread.h>

#include <condition_variable>
#include <map>
#include <mutex>

#include "deliver/http_client.hpp"
#include "support/stub_http_server.hpp"

using namespace dsb::deliver;
using dsb::test::StubAnswer;
using dsb::test::StubHttpServer;
using dsb::test::StubRequest;

namespace {

// Collects completions from the HTTP thread; waits are bounded.
class Completions {
 public:
  void add(std::vector<Completion> batch) {
    std::lock_guard lock(mutex_);
    REQUIRE_FALSE(batch.empty());
    for (auto& c : batch) {
      CHECK(done_.count(c.id) == 0);  // each exactly once
      done_[c.id] = std::move(c.response);
    }
    ++batches_;
    cv_.notify_all();
  }
  std::function<void(std::vector<Completion>)> handler() {
    return [this](std::vector<Completion> batch) { add(std::move(batch)); };
  }
  size_t batches() {
    std::lock_guard lock(mutex_);
    return batches_;
  }
  Response wait(RequestId id) {
    std::unique_lock lock(mutex_);
    REQUIRE(cv_.wait_for(lock, std::chrono::seconds(10), [&] { return done_.count(id) > 0; }));
    return done_[id];
  }
  size_t count() {
    std::lock_guard lock(mutex_);
    return done_.size();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<RequestId, Response> done_;
  size_t batches_ = 0;
};

Request post(const std::string& url, std::string body = R"({"a":1})") {
  Request r;
  r.url = url;
  r.body = std::move(body);
  r.headers = {{"Content-Type", "application/json"}, {"X-DingTalk-Type", "EVENT"}};
  r.timeout = std::chrono::milliseconds(2000);
  return r;
}

}  // namespace

TEST_CASE("a POST carries body and headers, status and reply come back", "[http]") {
  StubHttpServer server([](const StubRequest&) { return StubAnswer{201, R"({"ok":true})"}; });
  Completions completions;
  HttpClient client({}, completions.handler());

  Response r = completions.wait(client.submit(post(server.url())));
  CHECK(r.status == 201);
  CHECK(r.is_2xx());
  CHECK(r.body == R"({"ok":true})");
  CHECK(r.error.empty());

  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method == "POST");
  CHECK(requests[0].path == "/hook");
  CHECK(requests[0].body == R"({"a":1})");
  CHECK(requests[0].headers["x-dingtalk-type"] == "EVENT");
  CHECK(requests[0].headers.count("expect") == 0);
}

TEST_CASE("non-2xx is a status, not an error", "[http]") {
  StubHttpServer server([](const StubRequest&) { return StubAnswer{503, "busy"}; });
  Completions completions;
  HttpClient client({}, completions.handler());
  Response r = completions.wait(client.submit(post(server.url())));
  CHECK(r.status == 503);
  CHECK_FALSE(r.is_2xx());
  CHECK(r.body == "busy");
}

TEST_CASE("a Retry-After header comes back with the answer, absent ones as empty", "[http]") {
  StubHttpServer server([](const StubRequest& request) {
    StubAnswer answer{429, "slow down"};
    if (request.body == "with") answer.extra_headers = "Retry-After:  120 \r\n";
    return answer;
  });
  Completions completions;
  HttpClient client({}, completions.handler());
  CHECK(completions.wait(client.submit(post(server.url(), "with"))).retry_after == "120");
  // The easy handle is reused: nothing of the previous answer's headers stays.
  CHECK(completions.wait(client.submit(post(server.url(), "without"))).retry_after.empty());
}

TEST_CASE("a refused connection and a timeout fail below HTTP with a reason", "[http]") {
  int closed_port;
  {
    StubHttpServer gone;
    closed_port = gone.port();
  }
  StubHttpServer slow([](const StubRequest&) {
    return StubAnswer{200, "{}", std::chrono::milliseconds(800)};
  });
  Completions completions;
  HttpClient client({}, completions.handler());

  Response refused = completions.wait(
      client.submit(post("http://127.0.0.1:" + std::to_string(closed_port) + "/hook")));
  CHECK(refused.status == 0);
  CHECK_FALSE(refused.error.empty());

  Request timed = post(slow.url());
  timed.timeout = std::chrono::milliseconds(200);
  Response timeout = completions.wait(client.submit(timed));
  CHECK(timeout.status == 0);
  CHECK_THAT(timeout.error, Catch::Matchers::Contains("imed out"));
}

TEST_CASE("an oversized reply is a failure", "[http]") {
  StubHttpServer server([](const StubRequest&) { return StubAnswer{200, std::string(5000, 'x')}; });
  Completions completions;
  HttpClient::Options options;
  options.max_response_body = 1000;
  HttpClient client(options, completions.handler());
  Response r = completions.wait(client.submit(post(server.url())));
  CHECK(r.status == 0);
  CHECK_THAT(r.error, Catch::Matchers::Contains("larger than 1000 bytes"));
}

TEST_CASE("sequential requests reuse one kept-alive connection", "[http]") {
  StubHttpServer server;
  Completions completions;
  HttpClient client({}, completions.handler());
  for (int i = 0; i < 20; ++i) {
    CHECK(completions.wait(client.submit(post(server.url()))).status == 200);
  }
  CHECK(server.requests().size() == 20);
  CHECK(server.connections_accepted() == 1);
}

TEST_CASE("concurrent requests all complete, each exactly once", "[http]") {
  StubHttpServer server([](const StubRequest&) {
    return StubAnswer{200, "{}", std::chrono::milliseconds(20)};
  });
  Completions completions;
  HttpClient client({}, completions.handler());
  std::vector<RequestId> ids;
  for (int i = 0; i < 50; ++i) ids.push_back(client.submit(post(server.url())));
  for (RequestId id : ids) CHECK(completions.wait(id).status == 200);
  CHECK(completions.count() == 50);
}

TEST_CASE("shutting down completes transfers still running", "[http]") {
  StubHttpServer slow([](const StubRequest&) {
    return StubAnswer{200, "{}", std::chrono::milliseconds(1200)};
  });
  Completions completions;
  RequestId id;
  {
    HttpClient client({}, completions.handler());
    id = client.submit(post(slow.url()));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  Response r = completions.wait(id);
  CHECK(r.status == 0);
  CHECK(r.error == "shutting down");
}

TEST_CASE("transfers still running at shutdown come back together, each exactly once", "[http]") {
  StubHttpServer slow([](const StubRequest&) {
    return StubAnswer{200, "{}", std::chrono::milliseconds(1200)};
  });
  Completions completions;
  std::vector<RequestId> ids;
  {
    HttpClient client({}, completions.handler());
    for (int i = 0; i < 5; ++i) ids.push_back(client.submit(post(slow.url())));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (RequestId id : ids) CHECK(completions.wait(id).error == "shutting down");
  CHECK(completions.count() == 5);
  CHECK(completions.batches() == 1);
}

TEST_CASE("a reused easy handle carries nothing of its previous transfer", "[http]") {
  StubHttpServer server([](const StubRequest& request) {
    return request.path == "/big" ? StubAnswer{200, std::string(5000, 'x')}
                                  : StubAnswer{200, "small"};
  });
  Completions completions;
  HttpClient::Options options;
  options.max_response_body = 1000;
  HttpClient client(options, completions.handler());

  Request first = post(server.url("/big"), R"({"first":true})");
  first.headers.emplace_back("X-Only-First", "1");
  Response failed = completions.wait(client.submit(first));
  CHECK(failed.status == 0);
  CHECK_THAT(failed.error, Catch::Matchers::Contains("larger than 1000 bytes"));

  // Sequential: the second transfer gets the handle the first one returned.
  Response ok = completions.wait(client.submit(post(server.url(), R"({"second":true})")));
  CHECK(ok.status == 200);
  CHECK(ok.body == "small");
  CHECK(ok.error.empty());
  auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[1].headers.count("x-only-first") == 0);
  CHECK(requests[1].body == R"({"second":true})");
  CHECK(requests[1].headers["x-dingtalk-type"] == "EVENT");
}

TEST_CASE("completions run on a thread named dsb-webhooks", "[http]") {
  StubHttpServer server;
  std::mutex mutex;
  std::condition_variable cv;
  std::string name;
  HttpClient client({}, [&](std::vector<Completion>) {
    char buffer[16] = {};
    pthread_getname_np(pthread_self(), buffer, sizeof buffer);
    std::lock_guard lock(mutex);
    name = buffer;
    cv.notify_all();
  });
  client.submit(post(server.url()));
  std::unique_lock lock(mutex);
  REQUIRE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return !name.empty(); }));
  CHECK(name == "dsb-webhooks");
}

TEST_CASE("a webhook URL of another scheme fails without a connection", "[http]") {
  StubHttpServer listener;
  Completions completions;
  HttpClient client({}, completions.handler());
  Response r = completions.wait(
      client.submit(post("gopher://127.0.0.1:" + std::to_string(listener.port()) + "/_x")));
  CHECK(r.status == 0);
  CHECK_THAT(r.error, Catch::Matchers::Contains("gopher"));
  CHECK(listener.connections_accepted() == 0);
  // The handle goes back to the pool reset: the next transfer is restricted again.
  Response again = completions.wait(
      client.submit(post("dict://127.0.0.1:" + std::to_string(listener.port()) + "/d:x")));
  CHECK(again.status == 0);
  CHECK(listener.connections_accepted() == 0);
}

TEST_CASE("an error that quotes the URL or the proxy shows them redacted", "[http]") {
  Completions completions;
  HttpClient client({}, completions.handler());
  Request request = post("http://127.0.0.1:1/hook");
  request.transport.proxy = "http://user:PROXYPASS@[::1";  // curl quotes a proxy it cannot parse
  Response r = completions.wait(client.submit(request));
  CHECK(r.status == 0);
  CHECK_THAT(r.error, Catch::Matchers::Contains("http://***@[::1"));
  CHECK_THAT(r.error, !Catch::Matchers::Contains("PROXYPASS"));
}

namespace {

Request with_method(const std::string& url, std::string method, std::string body) {
  Request r;
  r.method = std::move(method);
  r.url = url;
  r.body = std::move(body);
  r.timeout = std::chrono::milliseconds(2000);
  return r;
}

}  // namespace

TEST_CASE("any method is sent as asked, GET and HEAD without a body when it is empty", "[http]") {
  StubHttpServer server([](const StubRequest&) { return StubAnswer{200, "abc"}; });
  Completions completions;
  HttpClient client({}, completions.handler());

  Response get = completions.wait(client.submit(with_method(server.url("/g?q=1"), "GET", "")));
  Response head = completions.wait(client.submit(with_method(server.url("/h"), "HEAD", "")));
  Response put = completions.wait(client.submit(with_method(server.url("/p"), "PUT", "put body")));
  Response del = completions.wait(client.submit(with_method(server.url("/d"), "DELETE", "")));
  Response patch = completions.wait(client.submit(with_method(server.url("/x"), "PATCH", "{}")));
  Response get_body = completions.wait(client.submit(with_method(server.url("/gb"), "GET", "q")));
  Response post = completions.wait(client.submit(with_method(server.url("/po"), "POST", "")));
  CHECK(get.status == 200);
  CHECK(get.body == "abc");
  CHECK(head.status == 200);
  CHECK(head.body.empty());  // a HEAD answer has none, whatever Content-Length says
  CHECK(put.status == 200);
  CHECK(del.status == 200);
  CHECK(patch.status == 200);
  CHECK(get_body.status == 200);
  CHECK(post.status == 200);

  auto requests = server.requests();
  REQUIRE(requests.size() == 7);
  CHECK(requests[0].method == "GET");
  CHECK(requests[0].path == "/g?q=1");
  CHECK(requests[0].headers.count("content-length") == 0);
  CHECK(requests[1].method == "HEAD");
  CHECK(requests[1].headers.count("content-length") == 0);
  CHECK(requests[2].method == "PUT");
  CHECK(requests[2].body == "put body");
  CHECK(requests[3].method == "DELETE");
  CHECK(requests[3].body.empty());
  CHECK(requests[4].method == "PATCH");
  CHECK(requests[4].body == "{}");
  CHECK(requests[5].method == "GET");
  CHECK(requests[5].body == "q");
  CHECK(requests[6].method == "POST");
  CHECK(requests[6].headers.at("content-length") == "0");
  for (const auto& request : requests) {
    // No form content type of curl's own for a body the request did not label.
    CHECK(request.headers.count("content-type") == 0);
  }
}

TEST_CASE("response headers and reason phrase come back only when asked for", "[http]") {
  StubHttpServer server([](const StubRequest&) {
    StubAnswer answer{404, "missing"};
    answer.extra_headers = "X-One: 1\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Folded: start\r\n  more\r\n";
    return answer;
  });
  Completions completions;
  HttpClient client({}, completions.handler());

  Request asked = with_method(server.url(), "GET", "");
  asked.want_response_headers = true;
  Response with = completions.wait(client.submit(asked));
  CHECK(with.status == 404);
  CHECK(with.reason_phrase == "X");  // what the stub's status line says
  using Header = std::pair<std::string, std::string>;
  CHECK(with.headers == std::vector<Header>{{"X-One", "1"},
                                            {"Set-Cookie", "a=1"},
                                            {"Set-Cookie", "b=2"},
                                            {"X-Folded", "start more"},
                                            {"Content-Type", "application/json"},
                                            {"Content-Length", "7"}});

  Response without = completions.wait(client.submit(with_method(server.url(), "GET", "")));
  CHECK(without.status == 404);
  CHECK(without.reason_phrase.empty());
  CHECK(without.headers.empty());
}

TEST_CASE("failures below HTTP say their kind, and collected headers have a cap", "[http]") {
  int closed_port;
  {
    StubHttpServer gone;
    closed_port = gone.port();
  }
  StubHttpServer slow([](const StubRequest&) {
    return StubAnswer{200, "{}", std::chrono::milliseconds(800)};
  });
  StubHttpServer big([](const StubRequest&) {
    StubAnswer answer{200, "{}"};
    answer.extra_headers = "X-Big: " + std::string(3000, 'b') + "\r\n";
    return answer;
  });
  Completions completions;
  HttpClient::Options options;
  options.max_response_headers = 1000;
  HttpClient client(options, completions.handler());

  Response refused = completions.wait(
      client.submit(post("http://127.0.0.1:" + std::to_string(closed_port) + "/hook")));
  CHECK(refused.failure == Failure::unreachable);
  Request timed = post(slow.url());
  timed.timeout = std::chrono::milliseconds(200);
  CHECK(completions.wait(client.submit(timed)).failure == Failure::timed_out);

  Request asked = post(big.url());
  asked.want_response_headers = true;
  Response too_large = completions.wait(client.submit(asked));
  CHECK(too_large.status == 0);
  CHECK(too_large.failure == Failure::too_large);
  CHECK_THAT(too_large.error, Catch::Matchers::Contains("headers larger than 1000 bytes"));
  // Not asked for: the cap does not apply.
  CHECK(completions.wait(client.submit(post(big.url()))).status == 200);
  CHECK(completions.wait(client.submit(post(slow.url()))).failure == Failure::none);
}
