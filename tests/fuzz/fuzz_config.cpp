// load_string on arbitrary YAML text, with a fake environment that answers a few variables
// and secret files, so ${VAR} substitution and *_file secrets are reached as well.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/loader.hpp"
#include "fixtures/config/fake_environment.hpp"
#include "fuzz_support.hpp"

using namespace dsb::config;

namespace {

const testing::FakeEnvironment& environment() {
  static const testing::FakeEnvironment env = [] {
    testing::FakeEnvironment e;
    e.vars = {{"DINGTALK_CLIENT_ID", "dingappkey"},
              {"DINGTALK_CLIENT_SECRET", "s3cr3t"},
              {"CREDENTIALS_DIRECTORY", "/run/credentials/bridge"},
              {"HOST", "127.0.0.1"},
              {"PORT", "8080"},
              {"EMPTY", ""},
              {"NESTED", "${HOST}"}};
    e.files = {{"/run/credentials/bridge/client_secret", "s3cr3t\n"},
               {"/run/secret", "token\n\n"},
               {"/run/empty", "\n"},
               {"/run/aes_key", "Wq3mZ8vK2pT7rX9yB4nC6dF1hJ5gL0sA2eR8tY3uI7o\n"}};
    return e;
  }();
  return env;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return dsb::fuzz::guarded([&] {
    const std::string_view yaml(reinterpret_cast<const char*>(data), size);
    LoadResult result = load_string(yaml, "bridge.yaml", environment());
    // The loader's contract: a Config exactly when there is no error.
    FUZZ_CHECK(result.config.has_value() == result.errors.empty());
    for (const ConfigError& error : result.errors) {
      FUZZ_CHECK(!error.message.empty());
      FUZZ_CHECK(error.where.line >= 0 && error.where.column >= 0);
      FUZZ_CHECK(error.to_string().starts_with("bridge.yaml"));
    }
    if (result.config) {
      const Config& config = *result.config;
      FUZZ_CHECK(!config.routes.empty());
      FUZZ_CHECK(config.dingtalk.connections >= 1 && config.dingtalk.connections <= 8);
      for (const Route& route : config.routes) FUZZ_CHECK(!route.urls.empty());
      (void)config.subscriptions();
      (void)describe(config);
    }
  });
}
