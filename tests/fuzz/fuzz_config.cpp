// load_string on arbitrary YAML text, with the fake environment of fuzz_fixtures.hpp (a few
// variables and secret files), so ${VAR} substitution and *_file secrets are reached as well.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/loader.hpp"
#include "fuzz_fixtures.hpp"
#include "fuzz_support.hpp"

using namespace dsb::config;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return dsb::fuzz::guarded([&] {
    const std::string_view yaml(reinterpret_cast<const char*>(data), size);
    LoadResult result = load_string(yaml, "bridge.yaml", dsb::fuzz::config_environment());
    // The loader's contract: a Config exactly when there is no error.
    FUZZ_CHECK(result.config.has_value() == result.errors.empty());
    for (const ConfigError& error : result.errors) {
      FUZZ_CHECK(!error.message.empty());
      FUZZ_CHECK(error.where.line >= 0 && error.where.column >= 0);
      FUZZ_CHECK(error.to_string().starts_with("bridge.yaml"));
    }
    if (result.config) {
      const Config& config = *result.config;
      FUZZ_CHECK(!config.apps.empty());
      for (const dsb::config::App& app : config.apps) {
        FUZZ_CHECK(!app.routes.empty());
        FUZZ_CHECK(app.dingtalk.connections >= 1 && app.dingtalk.connections <= 8);
        for (const Route& route : app.routes) FUZZ_CHECK(!route.urls.empty());
        (void)app.subscriptions();
      }
      (void)describe(config);
    }
  });
}
