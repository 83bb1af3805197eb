// httpd::Server over a real socket: an lws context on 127.0.0.1 port 0, libcurl as client.
#include "httpd/server.hpp"

#include <catch2/catch.hpp>
#include <curl/curl.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>

using namespace dsb::httpd;

namespace {

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

struct Reply {
  long status = 0;
  std::string body;
  std::string headers;
};

Reply fetch(const std::string& url, const char* method, const std::string* body) {
  Reply reply;
  CURL* curl = curl_easy_init();
  REQUIRE(curl);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &collect);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply.headers);
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (body) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body->size()));
  }
  CURLcode rc = curl_easy_perform(curl);
  INFO(curl_easy_strerror(rc));
  CHECK(rc == CURLE_OK);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return reply;
}

// A server on its own service thread for the duration of a test.
class Running {
 public:
  explicit Running(Server& server) : protocols_{server.protocol("http"), {}} {
    std::memset(&protocols_[1], 0, sizeof protocols_[1]);
    lws_set_log_level(LLL_ERR, nullptr);
    lws_context_creation_info info;
    std::memset(&info, 0, sizeof info);
    info.port = 0;
    info.iface = "127.0.0.1";
    info.protocols = protocols_;
    info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
    info.gid = static_cast<gid_t>(-1);
    info.uid = static_cast<uid_t>(-1);
    context_ = lws_create_context(&info);
    REQUIRE(context_);
    lws_vhost* vhost = lws_get_vhost_by_name(context_, "default");
    REQUIRE(vhost);
    port_ = lws_get_vhost_listen_port(vhost);
    thread_ = std::thread([this] {
      while (!stop_) lws_service(context_, 0);
    });
  }
  ~Running() {
    stop_ = true;
    lws_cancel_service(context_);
    thread_.join();
    lws_context_destroy(context_);
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  lws_protocols protocols_[2];
  lws_context* context_ = nullptr;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

TEST_CASE("httpd serves routes over a real socket", "[httpd]") {
  Router router;
  router.add("GET", "/hello", [](const Request& r) {
    Response resp = Response::text(200, "hello " + r.arg("name") + " " + r.header("accept"));
    resp.headers.emplace_back("X-Test", "yes");
    return resp;
  });
  router.add("POST", "/echo", [](const Request& r) {
    return Response::json(200, "{\"bytes\":" + std::to_string(r.body.size()) + ",\"ct\":\"" +
                                   r.header("content-type") + "\"}");
  });
  router.add("GET", "/big", [](const Request&) { return Response::text(200, std::string(100000, 'x')); });
  Server server(std::move(router), Server::Options{1024});
  Running running(server);

  Reply hello = fetch(running.url("/hello?name=a%20b"), "GET", nullptr);
  CHECK(hello.status == 200);
  CHECK(hello.body == "hello a b */*");
  CHECK(hello.headers.find("X-Test: yes") != std::string::npos);

  std::string body(1000, 'y');
  Reply echo = fetch(running.url("/echo"), "POST", &body);
  CHECK(echo.status == 200);
  CHECK(echo.body == R"({"bytes":1000,"ct":"application/json"})");

  std::string too_big(5000, 'z');
  Reply large = fetch(running.url("/echo"), "POST", &too_big);
  CHECK(large.status == 413);

  Reply big = fetch(running.url("/big"), "GET", nullptr);
  CHECK(big.status == 200);
  CHECK(big.body.size() == 100000);

  CHECK(fetch(running.url("/nope"), "GET", nullptr).status == 404);
  CHECK(fetch(running.url("/echo"), "GET", nullptr).status == 405);
  std::string empty;
  CHECK(fetch(running.url("/echo"), "POST", &empty).status == 200);
}

TEST_CASE("httpd deferred: every request once, with its raw query and headers", "[httpd]") {
  std::atomic<int> calls{0};
  Server::Options options;
  options.max_body = 1024;
  std::string seen;  // written on the service thread, read after the reply arrived
  options.deferred = [&](Request request, Respond respond) {
    ++calls;
    seen = request.method + " " + request.path + "?" + request.query + " ua=" +
           request.header("user-agent") + " too_large=" + (request.body_too_large ? "1" : "0") +
           " body=" + std::to_string(request.body.size());
    Response r;
    r.status = 201;
    r.content_type.clear();  // none: the handler passes an answer on as it came
    r.body = "ok";
    respond(r);
    respond(r);  // a second call is harmless (the proxy never makes one)
  };
  Server server(Router{}, std::move(options));
  Running running(server);

  Reply got = fetch(running.url("/v1.0/x?a=x%20y&b=%2B&c=%26"), "GET", nullptr);
  CHECK(got.status == 201);
  CHECK(got.body == "ok");
  CHECK(got.headers.find("content-type") == std::string::npos);
  CHECK(seen.starts_with("GET /v1.0/x?a=x%20y&b=%2B&c=%26 ua="));

  std::string empty;
  CHECK(fetch(running.url("/e"), "POST", &empty).status == 201);
  CHECK(seen == "POST /e? ua= too_large=0 body=0");
  std::string big(5000, 'z');
  CHECK(fetch(running.url("/b"), "POST", &big).status == 201);
  CHECK(seen == "POST /b? ua= too_large=1 body=0");
  CHECK(calls == 3);  // the empty POST was answered once, not again at its body's end
}
