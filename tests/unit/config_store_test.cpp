// The `store:` section: the backend, the Redis URL parsed once into an endpoint, and the
// `check` line that shows it without the password.
#include <catch2/catch.hpp>

#include "config/loader.hpp"
#include "config/store_settings.hpp"
#include "fixtures/config/fake_environment.hpp"

using namespace dsb::config;
using dsb::config::testing::FakeEnvironment;

namespace {

const std::string kBase =
    "dingtalk: {client_id: id, client_secret: s}\n"
    "routes: [{name: r, event: \"*\", url: \"http://h/x\"}]\n";

Config load_ok(const std::string& yaml, const FakeEnvironment& env = {}) {
  auto result = load_string(yaml, "bridge.yaml", env);
  for (const auto& error : result.errors) UNSCOPED_INFO(error.to_string());
  REQUIRE(result.config);
  return *result.config;
}

}  // namespace

TEST_CASE("store config: sqlite by default, described with its directory", "[config][store]") {
  Config c = load_ok(kBase + "state_dir: /tmp/s\n");
  CHECK(c.store.backend == StoreBackend::sqlite);
  CHECK(describe_store(c.store, c.state_dir) == "store: sqlite in /tmp/s\n");
}

TEST_CASE("store config: redis from url, password via ${VAR}, redacted in check", "[config][store]") {
  FakeEnvironment env;
  env.vars = {{"REDIS_PASSWORD", "pa:ss@word"}};
  Config c = load_ok(kBase +
                         "store:\n  backend: redis\n  url: redis://:${REDIS_PASSWORD}@10.0.0.5:6380/3\n"
                         "  key_prefix: \"bridge-a:\"\n  lease: 10s\n",
                     env);
  CHECK(c.store.backend == StoreBackend::redis);
  CHECK(c.store.redis.host == "10.0.0.5");
  CHECK(c.store.redis.port == 6380);
  CHECK(c.store.redis.db == 3);
  CHECK(c.store.redis.password == "pa:ss@word");
  CHECK(c.store.key_prefix == "bridge-a:");
  CHECK(c.store.lease == std::chrono::seconds(10));
  const std::string line = describe_store(c.store, c.state_dir);
  CHECK(line == "store: redis redis://:***@10.0.0.5:6380/3, key_prefix \"bridge-a:\", lease 10s\n");
  CHECK(describe(c).find("pa:ss") == std::string::npos);
  CHECK(describe(c).rfind("store: redis", 0) == 0);
}

TEST_CASE("store config: url_file, defaults for port, db, prefix and lease", "[config][store]") {
  FakeEnvironment env;
  env.files = {{"/run/redis_url", "redis://[::1]\n"}};
  Config c = load_ok(kBase + "store: {backend: redis, url_file: /run/redis_url}\n", env);
  CHECK(c.store.redis.host == "::1");
  CHECK(c.store.redis.port == 6379);
  CHECK(c.store.redis.db == 0);
  CHECK(c.store.redis.password.empty());
  CHECK(c.store.key_prefix == "dsb:");
  CHECK(c.store.lease == std::chrono::seconds(30));
}

TEST_CASE("store config: parse_redis_url keeps the password out of every problem", "[config][store]") {
  for (const char* bad : {"rediss://:SECRET@h", "redis://:SECRET@", "redis://:SECRET@h:x",
                          "redis://:SECRET@h/db", "redis://u:SECRET@h", "redis://:SECRET@[::1"}) {
    INFO(bad);
    auto parsed = parse_redis_url(bad);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.status().message().find("SECRET") == std::string::npos);
  }
  CHECK(redact_redis_url("redis://:a@b@h:1/2") == "redis://:***@h:1/2");
  CHECK(redact_redis_url("redis://h:1") == "redis://h:1");
}
