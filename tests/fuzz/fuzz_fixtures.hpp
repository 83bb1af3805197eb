// The fixed world the fuzz targets run in, shared with tests/unit/fuzz_regressions_test.cpp
// so the unit tests replay the seed corpora (and every crash input) under exactly the same
// environment, route and keys.
#pragma once

#include "config/config.hpp"
#include "../unit/fixtures/config/fake_environment.hpp"
#include "../unit/fixtures/config/test_ca_pem.hpp"

namespace dsb::fuzz {

// fuzz_config: a few variables and secret files, so ${VAR} substitution and *_file
// secrets are reached as well.
inline const config::testing::FakeEnvironment& config_environment() {
  static const config::testing::FakeEnvironment env = [] {
    config::testing::FakeEnvironment e;
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
               {"/run/aes_key", "Wq3mZ8vK2pT7rX9yB4nC6dF1hJ5gL0sA2eR8tY3uI7o\n"},
               {"/etc/ssl/certs/extra.pem", config::testing::kTestCaPem}};
    return e;
  }();
  return env;
}

// fuzz_legacy: the token, aes_key and owner key of vector V3 in reference/legacy-http.md
// section 1.10 (V1, V2 and V4 share them).
inline constexpr const char* kLegacyToken = "bridgeToken123";
inline constexpr const char* kLegacyAesKey = "Wq3mZ8vK2pT7rX9yB4nC6dF1hJ5gL0sA2eR8tY3uI7o";
inline constexpr const char* kLegacyOwnerKey = "dingbridgeappkey0001";

inline const config::Route& legacy_route() {
  static const config::Route r = [] {
    config::Route out;
    out.name = "legacy";
    out.event = "*";
    out.urls = {"http://127.0.0.1:9/legacy"};
    out.format = config::Format::legacy_event;
    out.legacy.token = kLegacyToken;
    out.legacy.aes_key = kLegacyAesKey;
    out.legacy.owner_key = kLegacyOwnerKey;
    return out;
  }();
  return r;
}

}  // namespace dsb::fuzz
