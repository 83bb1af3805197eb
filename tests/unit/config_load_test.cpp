// Valid configs: defaults, inheritance from `defaults`, ${VAR}, *_file secrets, units,
// derived subscriptions, the shipped example, and `check` output without secrets.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "config/loader.hpp"
#include "fixtures/config/fake_environment.hpp"
#include "fixtures/config/test_ca_pem.hpp"

using namespace std::chrono_literals;
using dsb::config::Config;
using dsb::config::Delivery;
using dsb::config::Format;
using dsb::config::load_file;
using dsb::config::load_string;
using dsb::config::ProcessEnvironment;
using dsb::config::Subscription;
using dsb::config::testing::FakeEnvironment;

namespace {

Config load_ok(const std::string& yaml, const FakeEnvironment& env = {}) {
  auto result = load_string(yaml, "bridge.yaml", env);
  for (const auto& error : result.errors) UNSCOPED_INFO(error.to_string());
  REQUIRE(result.errors.empty());
  REQUIRE(result.config.has_value());
  return *result.config;
}

const std::string kMinimal =
    "dingtalk:\n"
    "  client_id: app\n"
    "  client_secret: shh\n"
    "routes:\n"
    "  - name: all\n"
    "    event: \"*\"\n"
    "    url: http://127.0.0.1:8080/e\n";

}  // namespace

TEST_CASE("a minimal config gets every default", "[config]") {
  Config c = load_ok(kMinimal);
  CHECK(c.source_file == "bridge.yaml");
  CHECK(c.apps[0].dingtalk.client_id == "app");
  CHECK(c.apps[0].dingtalk.client_secret == "shh");
  CHECK(c.apps[0].dingtalk.api_base == "https://api.dingtalk.com");
  CHECK(c.apps[0].dingtalk.connections == 1);
  CHECK(c.apps[0].dingtalk.proxy.empty());
  CHECK(c.apps[0].dingtalk.ca_file.empty());
  CHECK(c.apps[0].dingtalk.keepalive.ping_idle == 30s);
  CHECK(c.apps[0].dingtalk.keepalive.pong_timeout == 10s);
  CHECK(c.apps[0].dingtalk.keepalive.silence_timeout == 5min);
  CHECK(c.apps[0].dingtalk.reconnect.initial == 1s);
  CHECK(c.apps[0].dingtalk.reconnect.max == 60s);
  CHECK(c.admin.listen == dsb::config::ListenAddress{"127.0.0.1", 9180, false});
  CHECK(c.state_dir == "/var/lib/dingtalk-stream-bridge");
  CHECK(c.log.level == dsb::log::Level::info);
  CHECK(c.log.format == dsb::log::Format::text);
  CHECK(c.limits.ack_deadline == 2500ms);
  CHECK(c.limits.dedup_window == 1h);
  CHECK(c.limits.max_frame == 4u * 1024 * 1024);
  CHECK(c.limits.shutdown_grace == 10s);
  REQUIRE(c.apps[0].routes.size() == 1);
  const auto& r = c.apps[0].routes[0];
  CHECK(r.name == "all");
  CHECK(r.event == "*");
  CHECK(r.topic.empty());
  CHECK(r.urls == std::vector<std::string>{"http://127.0.0.1:8080/e"});
  CHECK(r.format == Format::raw);
  CHECK(r.timeout == 2500ms);
  CHECK(r.delivery == Delivery::direct);
  CHECK(r.max_in_flight == 64);
  CHECK(r.headers.empty());
  CHECK(r.signing_secret.empty());
  CHECK(r.retry.max_attempts == 12);
  CHECK(r.retry.max_age == 24h);
  CHECK(r.retry.backoff.initial == 1s);
  CHECK(r.retry.backoff.max == 5min);
  CHECK(r.location.file == "bridge.yaml");
  CHECK(r.location.line == 5);
  CHECK(r.location.column == 5);
}

TEST_CASE("every section set explicitly", "[config]") {
  FakeEnvironment env;
  env.files = {{"/etc/ssl/extra.pem", dsb::config::testing::kTestCaPem}};
  Config c = load_ok(
      "dingtalk:\n"
      "  client_id: app\n"
      "  client_secret: shh\n"
      "  api_base: http://127.0.0.1:9000/\n"
      "  connections: 3\n"
      "  proxy: http://user:pw@proxy:3128\n"
      "  ca_file: /etc/ssl/extra.pem\n"
      "  keepalive: {ping_idle: 15s, pong_timeout: 2s, silence_timeout: 1m30s}\n"
      "  reconnect: {initial: 250ms, max: 2m}\n"
      "admin: {listen: \"\"}\n"
      "state_dir: /tmp/state\n"
      "log: {level: debug, format: json}\n"
      "limits: {ack_deadline: 2s, dedup_window: 30m, max_frame: 512KiB, shutdown_grace: 3s}\n"
      "routes:\n"
      "  - {name: a, event: \"*\", url: \"http://h/a\"}\n",
      env);
  CHECK(c.apps[0].dingtalk.api_base == "http://127.0.0.1:9000");  // trailing "/" dropped
  CHECK(c.apps[0].dingtalk.connections == 3);
  CHECK(c.apps[0].dingtalk.proxy == "http://user:pw@proxy:3128");
  CHECK(c.apps[0].dingtalk.ca_file == "/etc/ssl/extra.pem");
  CHECK(c.apps[0].dingtalk.keepalive.ping_idle == 15s);
  CHECK(c.apps[0].dingtalk.keepalive.pong_timeout == 2s);
  CHECK(c.apps[0].dingtalk.keepalive.silence_timeout == 90s);
  CHECK(c.apps[0].dingtalk.reconnect.initial == 250ms);
  CHECK(c.apps[0].dingtalk.reconnect.max == 2min);
  CHECK_FALSE(c.admin.listen.has_value());
  CHECK(c.state_dir == "/tmp/state");
  CHECK(c.log.level == dsb::log::Level::debug);
  CHECK(c.log.format == dsb::log::Format::json);
  CHECK(c.limits.ack_deadline == 2s);
  CHECK(c.limits.dedup_window == 30min);
  CHECK(c.limits.max_frame == 512u * 1024);
  CHECK(c.limits.shutdown_grace == 3s);
}

TEST_CASE("routes inherit defaults unless they override", "[config]") {
  Config c = load_ok(
      "dingtalk: {client_id: app, client_secret: shh}\n"
      "defaults: {timeout: 1s, delivery: spool, max_in_flight: 5}\n"
      "routes:\n"
      "  - name: inherits\n"
      "    event: \"*\"\n"
      "    url: http://h/a\n"
      "  - name: overrides\n"
      "    topic: /v1.0/card/instances/callback\n"
      "    url: [http://h/b, https://h/c]\n"
      "    timeout: 4s\n"
      "    delivery: direct\n"
      "    max_in_flight: 10000\n"
      "    format: legacy-card\n"
      "    headers: {X-One: \"1\", Authorization: Bearer t}\n"
      "    signing_secret: sign\n"
      "    legacy: {api_secret: card-secret}\n"
      "    retry: {max_attempts: 3, max_age: 2h, backoff: {initial: 5s, max: 10m}}\n");
  REQUIRE(c.apps[0].routes.size() == 2);
  CHECK(c.defaults.timeout == 1s);
  CHECK(c.defaults.delivery == Delivery::spool);
  CHECK(c.defaults.max_in_flight == 5);
  const auto& a = c.apps[0].routes[0];
  CHECK(a.timeout == 1s);
  CHECK(a.delivery == Delivery::spool);
  CHECK(a.max_in_flight == 5);
  const auto& b = c.apps[0].routes[1];
  CHECK(b.timeout == 4s);
  CHECK(b.delivery == Delivery::direct);
  CHECK(b.max_in_flight == 10000);
  CHECK(b.format == Format::legacy_card);
  CHECK(b.is_callback());
  CHECK(b.urls == std::vector<std::string>{"http://h/b", "https://h/c"});
  CHECK(b.headers == std::vector<std::pair<std::string, std::string>>{{"X-One", "1"},
                                                                      {"Authorization", "Bearer t"}});
  CHECK(b.signing_secret == "sign");
  CHECK(b.legacy.api_secret == "card-secret");
  CHECK(b.retry.max_attempts == 3);
  CHECK(b.retry.max_age == 2h);
  CHECK(b.retry.backoff.initial == 5s);
  CHECK(b.retry.backoff.max == 10min);
}

TEST_CASE("${VAR} is substituted in every string, including numbers and lists", "[config]") {
  FakeEnvironment env;
  env.vars = {{"ID", "app-id"}, {"SECRET", "s3"}, {"HOST", "10.0.0.2"}, {"PORT", "8081"},
              {"CONNS", "4"}, {"EMPTY", ""}};
  Config c = load_ok(
      "dingtalk:\n"
      "  client_id: ${ID}\n"
      "  client_secret: pre-${SECRET}-post\n"
      "  connections: ${CONNS}\n"
      "  api_base: ${API_BASE:-https://api.dingtalk.com}\n"
      "state_dir: ${STATE:-/var/lib/x}/${ID}\n"
      "log: {level: \"${LEVEL:-warn}\"}\n"
      "limits: {ack_deadline: \"${ACK:-2s}\"}\n"
      "routes:\n"
      "  - name: r\n"
      "    event: ${EMPTY:-*}\n"
      "    url: [\"http://${HOST}:${PORT}/a\", \"http://h/$${literal}\"]\n"
      "    headers: {X-App: \"${ID}\"}\n",
      env);
  CHECK(c.apps[0].dingtalk.client_id == "app-id");
  CHECK(c.apps[0].dingtalk.client_secret == "pre-s3-post");
  CHECK(c.apps[0].dingtalk.connections == 4);
  CHECK(c.apps[0].dingtalk.api_base == "https://api.dingtalk.com");
  CHECK(c.state_dir == "/var/lib/x/app-id");
  CHECK(c.log.level == dsb::log::Level::warn);
  CHECK(c.limits.ack_deadline == 2s);
  REQUIRE(c.apps[0].routes.size() == 1);
  CHECK(c.apps[0].routes[0].event == "*");
  CHECK(c.apps[0].routes[0].urls == std::vector<std::string>{"http://10.0.0.2:8081/a", "http://h/${literal}"});
  CHECK(c.apps[0].routes[0].headers[0].second == "app-id");
}

TEST_CASE("*_file secrets are read through the environment, trailing newlines dropped", "[config]") {
  FakeEnvironment env;
  env.vars = {{"CREDS", "/run/credentials/bridge"}};
  env.files = {{"/run/credentials/bridge/client_secret", "client-s3cret\n"},
               {"/run/credentials/bridge/token", "tok\r\n\n"},
               {"/run/credentials/bridge/aes", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG\n"},
               {"/run/credentials/bridge/sign", "line1\nline2"}};
  Config c = load_ok(
      "dingtalk:\n"
      "  client_id: app\n"
      "  client_secret_file: ${CREDS}/client_secret\n"
      "routes:\n"
      "  - name: approvals\n"
      "    event: bpms_*\n"
      "    url: http://h/a\n"
      "    format: legacy-event\n"
      "    signing_secret_file: /run/credentials/bridge/sign\n"
      "    legacy:\n"
      "      token_file: /run/credentials/bridge/token\n"
      "      aes_key_file: /run/credentials/bridge/aes\n"
      "      owner_key: corp-1\n",
      env);
  CHECK(c.apps[0].dingtalk.client_secret == "client-s3cret");
  const auto& r = c.apps[0].routes.at(0);
  CHECK(r.format == Format::legacy_event);
  CHECK(r.signing_secret == "line1\nline2");  // only trailing newlines go
  CHECK(r.legacy.token == "tok");
  CHECK(r.legacy.aes_key == "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG");
  CHECK(r.legacy.owner_key == "corp-1");
}

TEST_CASE("subscriptions: one CALLBACK per distinct topic, EVENT * once, last", "[config]") {
  Config c = load_ok(
      "dingtalk: {client_id: app, client_secret: shh}\n"
      "routes:\n"
      "  - {name: a, event: bpms_*, url: \"http://h/1\"}\n"
      "  - {name: b, topic: /v1.0/im/bot/messages/get, url: \"http://h/2\", format: legacy-robot}\n"
      "  - {name: c, topic: /v1.0/card/instances/callback, url: \"http://h/3\"}\n"
      "  - {name: d, topic: /v1.0/im/bot/messages/get, url: \"http://h/4\"}\n"
      "  - {name: e, event: \"*\", url: \"http://h/5\"}\n");
  CHECK(c.apps[0].subscriptions() == std::vector<Subscription>{{"CALLBACK", "/v1.0/im/bot/messages/get"},
                                                       {"CALLBACK", "/v1.0/card/instances/callback"},
                                                       {"EVENT", "*"}});
  Config callbacks_only = load_ok(
      "dingtalk: {client_id: app, client_secret: shh}\n"
      "routes: [{name: a, topic: /t, url: \"http://h/1\"}]\n");
  CHECK(callbacks_only.apps[0].subscriptions() == std::vector<Subscription>{{"CALLBACK", "/t"}});
}

TEST_CASE("the example config loads and documents every key", "[config]") {
  FakeEnvironment env;
  env.vars = {{"DINGTALK_CLIENT_ID", "ding-example-id"},
              {"DINGTALK_CLIENT_SECRET", "example-client-secret-value"}};
  std::ifstream in(BRIDGE_SOURCE_DIR "/config/bridge.example.yaml");
  REQUIRE(in);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Through load_file, as `check` does; the fake environment serves the file's text.
  env.files = {{"/etc/dingtalk-stream-bridge/bridge.yaml", text}};
  auto result = load_file("/etc/dingtalk-stream-bridge/bridge.yaml", env);
  for (const auto& error : result.errors) UNSCOPED_INFO(error.to_string());
  REQUIRE(result.errors.empty());
  const Config& c = *result.config;
  CHECK(c.apps[0].dingtalk.client_id == "ding-example-id");
  CHECK(c.apps[0].dingtalk.api_base == "https://api.dingtalk.com");
  CHECK(c.state_dir == "/var/lib/dingtalk-stream-bridge");
  REQUIRE(c.apps[0].routes.size() == 7);
  CHECK(c.apps[0].routes[0].name == "skills");
  CHECK(c.apps[0].routes[0].format == Format::graph);
  CHECK(c.apps[0].routes[1].name == "helpdesk-robot");
  CHECK(c.apps[0].routes[1].match.size() == 1);
  CHECK(c.apps[0].routes[2].name == "ai-robot");
  REQUIRE(c.apps[0].routes[2].order_by);
  CHECK(c.apps[0].routes[2].order_by->text == "conversationId");
  CHECK(c.apps[0].routes[2].timeout == std::chrono::seconds(120));
  CHECK(c.apps[0].routes[3].name == "robot");
  CHECK(c.apps[0].routes[3].format == Format::legacy_robot);
  CHECK(c.apps[0].routes[5].name == "approvals");
  CHECK(c.apps[0].routes[5].delivery == Delivery::spool);
  CHECK(c.apps[0].routes[5].urls.size() == 2);
  CHECK(c.apps[0].routes[6].event == "*");
  // The graph topic, the robot topic (once for three routes), cards, and EVENT "*".
  CHECK(c.apps[0].subscriptions().size() == 4);

  // Every key of the schema appears in the file (commented or not), so it stays the
  // operator's reference.
  for (const char* key :
       {"client_id:", "client_secret:", "client_secret_file:", "api_base:", "connections:", "proxy:",
        "ca_file:", "keepalive:", "ping_idle:", "pong_timeout:", "silence_timeout:", "reconnect:",
        "initial:", "max:", "admin:", "listen:", "state_dir:", "log:", "level:", "format:",
        "limits:", "ack_deadline:", "dedup_window:", "max_frame:", "shutdown_grace:", "defaults:",
        "timeout:", "delivery:", "max_in_flight:", "routes:", "name:", "topic:", "event:", "url:",
        "headers:", "signing:", "signing_secret_file:", "rate:", "retry:", "retry_4xx:", "max_attempts:", "max_age:", "backoff:",
        "legacy:", "token:", "aes_key:", "owner_key:", "match:", "order_by:", "apps:"}) {
    INFO(key);
    CHECK(text.find(key) != std::string::npos);
  }
}

TEST_CASE("the example config points at the emulator through DINGTALK_API_BASE", "[config]") {
  FakeEnvironment env;
  env.vars = {{"DINGTALK_CLIENT_ID", "id"}, {"DINGTALK_CLIENT_SECRET", "s"},
              {"DINGTALK_API_BASE", "http://127.0.0.1:18080"}, {"BRIDGE_STATE_DIR", "/tmp/b"}};
  std::ifstream in(BRIDGE_SOURCE_DIR "/config/bridge.example.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Config c = load_ok(text, env);
  CHECK(c.apps[0].dingtalk.api_base == "http://127.0.0.1:18080");
  CHECK(c.state_dir == "/tmp/b");
}

TEST_CASE("describe() shows subscriptions and routes but no secret", "[config]") {
  FakeEnvironment env;
  env.vars = {{"DINGTALK_CLIENT_ID", "id"}, {"DINGTALK_CLIENT_SECRET", "CLIENT-SECRET-XYZ"},
              {"CB_TOKEN", "TOKEN-XYZ"}, {"CB_AES_KEY", "AESKEYabcdefghijklmnopqrstuvwxyz0123456789A"}};
  std::ifstream in(BRIDGE_SOURCE_DIR "/config/bridge.example.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text += "  - name: signed\n"
          "    event: x\n"
          "    url: [\"http://user:URLPASS-XYZ@127.0.0.1:8080/s\", \"HTTPS://h/t?access_token=QUERY-XYZ&v=2\"]\n"
          "    signing_secret: SIGNING-XYZ\n"
          "    headers: {Authorization: \"Bearer HEADER-XYZ\"}\n"
          "  - name: sales\n"
          "    topic: /v1.0/im/bot/messages/get\n"
          "    match: {robotCode: 'dingSALES*', text.content: '*help*'}\n"
          "    url: http://127.0.0.1:8090/sales\n"
          "    timeout: 10m\n";
  Config c = load_ok(text, env);
  REQUIRE(c.apps[0].routes.back().legacy.token.empty());
  REQUIRE(c.apps[0].routes[5].legacy.token == "TOKEN-XYZ");
  std::string out = dsb::config::describe(c);
  CHECK(out.find("XYZ") == std::string::npos);
  CHECK(out.find("AESKEY") == std::string::npos);
  CHECK(out ==
        "subscriptions:\n"
        "  CALLBACK /v1.0/graph/api/invoke\n"
        "  CALLBACK /v1.0/im/bot/messages/get\n"
        "  CALLBACK /v1.0/card/instances/callback\n"
        "  EVENT *\n"
        "routes (first match wins):\n"
        "  skills: topic /v1.0/graph/api/invoke -> http://127.0.0.1:8090/skills\n"
        "    format graph, delivery direct, timeout 30s, max_in_flight 64\n"
        "  helpdesk-robot: topic /v1.0/im/bot/messages/get match robotCode=dingHELPDESK* -> "
        "http://127.0.0.1:8080/helpdesk\n"
        "    format raw, delivery direct, timeout 2500ms, max_in_flight 64\n"
        "  ai-robot: topic /v1.0/im/bot/messages/get match robotCode=dingAI* -> "
        "http://127.0.0.1:8081/chat\n"
        "    format raw, delivery direct, timeout 2m, max_in_flight 64, ordered by conversationId\n"
        "  robot: topic /v1.0/im/bot/messages/get -> http://127.0.0.1:8080/dingtalk/robot\n"
        "    format legacy-robot, delivery direct, timeout 2500ms, max_in_flight 64\n"
        "  cards: topic /v1.0/card/instances/callback -> http://127.0.0.1:8080/dingtalk/card\n"
        "    format raw, delivery direct, timeout 2s, max_in_flight 64, headers X-Source\n"
        "  approvals: event bpms_* -> http://127.0.0.1:8081/approvals, http://127.0.0.1:8082/audit\n"
        "    format legacy-event, delivery spool, timeout 2500ms, max_in_flight 64, retry 12 "
        "attempts within 24h (backoff 1s to 5m)\n"
        "  everything-else: event * -> http://127.0.0.1:8080/dingtalk/events\n"
        "    format raw, delivery direct, timeout 2500ms, max_in_flight 64\n"
        "  signed: event x -> http://***@127.0.0.1:8080/s, https://h/t?access_token=***&v=***\n"
        "    format raw, delivery direct, timeout 2500ms, max_in_flight 64, signed bridge-v1, "
        "headers "
        "Authorization\n"
        "  sales: topic /v1.0/im/bot/messages/get match robotCode=dingSALES*, "
        "text.content=*help* -> http://127.0.0.1:8090/sales\n"
        "    format raw, delivery direct, timeout 10m, max_in_flight 64\n");
}

TEST_CASE("match: dotted fields and globs as written, in file order", "[config]") {
  Config c = load_ok(kMinimal +
                     "  - name: bots\n"
                     "    topic: /v1.0/im/bot/messages/get\n"
                     "    match:\n"
                     "      robotCode: 'ding+/=$:[a-z]\\*'\n"
                     "      text.content: \"*help*\"\n"
                     "      isInAtList: true\n"
                     "      count: 3\n"
                     "    url: http://127.0.0.1:8080/b\n"
                     "    timeout: 10m\n");
  REQUIRE(c.apps[0].routes.size() == 2);
  CHECK(c.apps[0].routes[0].match.empty());
  const auto& match = c.apps[0].routes[1].match;
  REQUIRE(match.size() == 4);
  CHECK(match[0].field.segments == std::vector<std::string>{"robotCode"});
  CHECK(match[0].glob == "ding+/=$:[a-z]\\*");
  CHECK(match[1].field.segments == std::vector<std::string>{"text", "content"});
  CHECK(match[1].glob == "*help*");
  CHECK(match[2].glob == "true");
  CHECK(match[3].glob == "3");
  CHECK(c.apps[0].routes[1].timeout == 10min);
  // Subscriptions are derived as before: match does not change them.
  CHECK(c.apps[0].subscriptions() ==
        std::vector<Subscription>{{"CALLBACK", "/v1.0/im/bot/messages/get"}, {"EVENT", "*"}});
}

TEST_CASE("timeout: up to 10m on callback and event routes", "[config]") {
  Config c = load_ok(kMinimal + "    timeout: 10m\n"
                                "  - {name: ai, topic: /t, url: \"http://h/1\", timeout: 10m}\n");
  CHECK(c.apps[0].routes[0].timeout == 10min);
  CHECK(c.apps[0].routes[1].timeout == 10min);
}

TEST_CASE("ProcessEnvironment reads real files and reports errno's reason", "[config]") {
  ProcessEnvironment env;
  char path[] = "/tmp/config_load_test_XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, "secret\n", 7) == 7);
  ::close(fd);
  auto content = env.read_file(path, 64);
  REQUIRE(content.is_ok());
  CHECK(content.value() == "secret\n");
  auto exactly = env.read_file(path, 7);
  CHECK(exactly.is_ok());
  auto over = env.read_file(path, 6);
  REQUIRE_FALSE(over.is_ok());
  CHECK(over.status().message() == "larger than 6 bytes");
  std::remove(path);
  auto missing = env.read_file(path, 64);
  REQUIRE_FALSE(missing.is_ok());
  CHECK(missing.status().message() == "No such file or directory");
}

TEST_CASE("ProcessEnvironment refuses what is not a regular file, without blocking", "[config]") {
  ProcessEnvironment env;
  auto directory = env.read_file("/", 1024);
  REQUIRE_FALSE(directory.is_ok());
  CHECK(directory.status().message() == "not a regular file (a directory)");
  // Endless: a plain read loop would grow until bad_alloc.
  auto zero = env.read_file("/dev/zero", 1024);
  REQUIRE_FALSE(zero.is_ok());
  CHECK(zero.status().message() == "not a regular file (a character device)");
  // A FIFO nobody writes to: a blocking open() would hang here forever.
  char dir[] = "/tmp/config_load_fifo_XXXXXX";
  REQUIRE(::mkdtemp(dir) != nullptr);
  std::string fifo = std::string(dir) + "/secret";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto pipe = env.read_file(fifo, 1024);
  REQUIRE_FALSE(pipe.is_ok());
  CHECK(pipe.status().message() == "not a regular file (a FIFO)");
  std::remove(fifo.c_str());
  ::rmdir(dir);
}
