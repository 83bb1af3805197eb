// AdminServer over a real socket: an EventLoop on its own thread, the admin vhost on
// 127.0.0.1 port 0, libcurl as the client, every scrape checked by the strict parser of
// metrics_exposition_test.cpp.
#include <catch2/catch.hpp>
#include <curl/curl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "admin/admin_server.hpp"
#include "loop/event_loop.hpp"

#include "support/exposition_parser.hpp"

using namespace dsb;
using namespace std::chrono_literals;

namespace {

class SwitchableReadiness : public admin::Readiness {
 public:
  void set(std::vector<std::string> reasons) {
    std::lock_guard lock(mutex_);
    reasons_ = std::move(reasons);
  }
  std::vector<std::string> not_ready_reasons() const override {
    std::lock_guard lock(mutex_);
    return reasons_;
  }
  std::string store_problem() const override { return {}; }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> reasons_;
};

size_t collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

struct Reply {
  long status = 0;
  std::string body;
  std::string content_type;
};

Reply fetch(int port, const std::string& path, const char* method = "GET") {
  Reply reply;
  CURL* curl = curl_easy_init();
  REQUIRE(curl);
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
  if (std::string(method) == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  CURLcode rc = curl_easy_perform(curl);
  INFO(url << ": " << curl_easy_strerror(rc));
  CHECK(rc == CURLE_OK);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  char* type = nullptr;
  curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
  if (type) reply.content_type = type;
  curl_easy_cleanup(curl);
  return reply;
}

// The loop on its own thread for the duration of a test; quits by itself after 20 s so a
// hung test fails instead of hanging.
class LoopThread {
 public:
  explicit LoopThread(loop::EventLoop& loop) : loop_(loop) {
    loop_.after(20s, [this] { loop_.quit(); });
    thread_ = std::thread([this] { loop_.run(); });
  }
  ~LoopThread() { stop(); }
  void stop() {
    if (!thread_.joinable()) return;
    loop_.post([this] { loop_.quit(); });
    thread_.join();
    loop_.destroy();
  }

 private:
  loop::EventLoop& loop_;
  std::thread thread_;
};

// The typed address the config loader hands over (config::parse_listen is tested in
// config_checks_test.cpp).
config::ListenAddress listen_at(const std::string& host, int port, bool ipv6 = false) {
  config::ListenAddress address;
  address.host = host;
  address.port = port;
  address.ipv6 = ipv6;
  return address;
}

}  // namespace

TEST_CASE("the admin server answers healthz, readyz and metrics on a real socket", "[admin]") {
  metrics::Registry registry;
  metrics::declare_standard(registry);
  metrics::Counter& frames = registry.counter("dsb_frames_total", {{"type", "EVENT"}, {"topic", "t\"1"}});
  registry.histogram("dsb_delivery_duration_seconds", {{"route", "r"}}).observe(0.02);
  SwitchableReadiness readiness;
  readiness.set({"no Stream connection registered"});

  admin::AdminServer admin;  // outlives the loop's context (LoopThread destroys it first)
  loop::EventLoop loop;
  REQUIRE(loop.create(64).is_ok());
  Status started = admin.start(loop, listen_at("127.0.0.1", 0), readiness, registry);
  INFO((started ? std::string() : started.message()));
  REQUIRE(started.is_ok());
  REQUIRE(admin.port() > 0);
  CHECK(admin.address() == "127.0.0.1:" + std::to_string(admin.port()));
  CHECK_FALSE(admin.start(loop, listen_at("127.0.0.1", 0), readiness, registry).is_ok());  // once only
  LoopThread running(loop);

  Reply health = fetch(admin.port(), "/healthz");
  CHECK(health.status == 200);
  CHECK(health.body == "ok\n");

  Reply not_ready = fetch(admin.port(), "/readyz");
  CHECK(not_ready.status == 503);
  CHECK(not_ready.body == "no Stream connection registered\n");
  readiness.set({});
  Reply ready = fetch(admin.port(), "/readyz");
  CHECK(ready.status == 200);
  CHECK(ready.body == "ready\n");

  Reply first = fetch(admin.port(), "/metrics");
  CHECK(first.status == 200);
  CHECK(first.content_type == "text/plain; version=0.0.4; charset=utf-8");
  auto before = exposition::parse(first.body);
  INFO(first.body << before.error);
  REQUIRE(before.error.empty());
  const std::map<std::string, std::string> labels{{"type", "EVENT"}, {"topic", "t\"1"}};
  CHECK(before.value("dsb_frames_total", labels) == 0);
  CHECK(before.value("dsb_connections_up") == 0);
  CHECK(before.value("dsb_delivery_duration_seconds_count", {{"route", "r"}}) == 1);
  CHECK(before.value("dsb_delivery_duration_seconds_bucket", {{"route", "r"}, {"le", "0.025"}}) == 1);
  CHECK(before.value("dsb_delivery_duration_seconds_bucket", {{"route", "r"}, {"le", "0.01"}}) == 0);

  frames.inc(5);  // from this thread while the loop serves: atomics only
  auto after = exposition::parse(fetch(admin.port(), "/metrics").body);
  REQUIRE(after.error.empty());
  CHECK(after.value("dsb_frames_total", labels) == 5);

  CHECK(fetch(admin.port(), "/healthz", "HEAD").status == 200);
  CHECK(fetch(admin.port(), "/nope").status == 404);
  CHECK(fetch(admin.port(), "/metrics", "POST").status == 405);

  running.stop();
}

TEST_CASE("the admin server keeps answering past its connection cap, in a small fd table",
          "[admin]") {
  SwitchableReadiness readiness;
  metrics::Registry registry;
  admin::AdminServer admin;
  loop::EventLoop loop;
  // Just what the server may hold, plus the loop's own entries: were idle connections not
  // capped, the table would fill and lws would stop accepting.
  REQUIRE(loop.create(admin::AdminServer::kFdsNeeded + 8).is_ok());
  REQUIRE(admin.start(loop, listen_at("127.0.0.1", 0), readiness, registry).is_ok());
  LoopThread running(loop);

  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sin.sin_port = htons(static_cast<uint16_t>(admin.port()));
  std::vector<int> idle;
  for (size_t i = 0; i < 3 * admin::AdminServer::kMaxConnections; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0);
    idle.push_back(fd);
  }
  for (int i = 0; i < 3; ++i) {
    Reply health = fetch(admin.port(), "/healthz");
    CHECK(health.status == 200);
    CHECK(health.body == "ok\n");
  }
  for (int fd : idle) close(fd);
  running.stop();
}

TEST_CASE("the admin server reports an address in use, a foreign address and a bad value", "[admin]") {
  // Hold a listening socket on a free loopback port.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0);
  REQUIRE(listen(fd, 1) == 0);
  socklen_t len = sizeof sin;
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len) == 0);
  const int busy = ntohs(sin.sin_port);

  SwitchableReadiness readiness;
  metrics::Registry registry;
  loop::EventLoop loop;
  REQUIRE(loop.create(64).is_ok());
  {
    admin::AdminServer admin;
    Status s = admin.start(loop, listen_at("127.0.0.1", busy), readiness, registry);
    REQUIRE_FALSE(s.is_ok());
    CHECK(s.message() == "cannot listen on 127.0.0.1:" + std::to_string(busy) + ": address in use");
    CHECK(admin.port() == 0);
  }
  {
    admin::AdminServer admin;
    // TEST-NET-1: documentation addresses, never configured on a test host.
    Status s = admin.start(loop, listen_at("192.0.2.1", 0), readiness, registry);
    REQUIRE_FALSE(s.is_ok());
    CHECK(s.message() == "cannot listen on 192.0.2.1:0: not an address of this host");
  }
  close(fd);
  loop.destroy();
}

TEST_CASE("the admin server listens on IPv6 loopback when the host has it", "[admin]") {
  int probe = socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_addr = in6addr_loopback;
  const bool have_ipv6 = probe >= 0 && bind(probe, reinterpret_cast<sockaddr*>(&sin6), sizeof sin6) == 0;
  if (probe >= 0) close(probe);
  if (!have_ipv6) {
    WARN("no IPv6 loopback here; skipped");
    return;
  }
  SwitchableReadiness readiness;
  metrics::Registry registry;
  admin::AdminServer admin;
  loop::EventLoop loop;
  REQUIRE(loop.create(64).is_ok());
  Status s = admin.start(loop, listen_at("::1", 0, /*ipv6=*/true), readiness, registry);
  INFO((s ? std::string() : s.message()));
  REQUIRE(s.is_ok());
  CHECK(admin.address() == "[::1]:" + std::to_string(admin.port()));
  LoopThread running(loop);
  Reply reply;
  CURL* curl = curl_easy_init();
  const std::string url = "http://[::1]:" + std::to_string(admin.port()) + "/healthz";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  CHECK(curl_easy_perform(curl) == CURLE_OK);
  curl_easy_cleanup(curl);
  CHECK(reply.body == "ok\n");
  // Bound to ::1 only: the IPv4 loopback on the same port does not answer.
  CURL* v4 = curl_easy_init();
  const std::string v4_url = "http://127.0.0.1:" + std::to_string(admin.port()) + "/healthz";
  curl_easy_setopt(v4, CURLOPT_URL, v4_url.c_str());
  curl_easy_setopt(v4, CURLOPT_TIMEOUT_MS, 2000L);
  curl_easy_setopt(v4, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(v4, CURLOPT_WRITEFUNCTION, &collect);
  std::string ignored;
  curl_easy_setopt(v4, CURLOPT_WRITEDATA, &ignored);
  CHECK(curl_easy_perform(v4) != CURLE_OK);
  curl_easy_cleanup(v4);
  running.stop();
}
