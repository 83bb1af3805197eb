// The libFuzzer seed corpora (tests/fuzz/corpus/<target>) replayed in the ordinary unit
// build, each seed held to the outcome it was written for, so the seeds cannot go stale
// (a schema change that turns a valid seed config into an error fails here, not silently in
// the fuzzer), and every crash input the fuzzers found stays a regression test.
//
// Seed naming is the contract: bad_* must be refused with a message, regress_* are former
// crash inputs, everything else is a valid input of its kind. The fuzz targets' fixed
// environment, route and keys come from tests/fuzz/fuzz_fixtures.hpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "../fuzz/fuzz_fixtures.hpp"
#include "common/json.hpp"
#include "config/loader.hpp"
#include "deliver/callback_crypto.hpp"
#include "deliver/graph_format.hpp"
#include "deliver/legacy_event_format.hpp"
#include "stream/frame.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kCorpus = fs::path(BRIDGE_SOURCE_DIR) / "tests" / "fuzz" / "corpus";

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The seed files of one target, sorted, so failures name the same file every run.
std::vector<fs::path> seeds(const std::string& target) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(kCorpus / target)) {
    if (entry.is_regular_file()) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  REQUIRE_FALSE(out.empty());
  return out;
}

bool starts_with(const fs::path& path, std::string_view prefix) {
  return path.filename().string().starts_with(prefix);
}

// judge() takes no randomness; it must not ask for any.
class NoRandom : public dsb::deliver::RandomSource {
 public:
  std::string alphanumeric(std::size_t) override {
    FAIL("judge() asked for random bytes");
    return {};
  }
};

dsb::deliver::ReplyVerdict judge(const std::string& body) {
  static NoRandom random;
  static const dsb::deliver::LegacyEventFormat format(random);
  dsb::deliver::Response response;
  response.status = 200;
  response.body = body;
  return format.judge(dsb::fuzz::legacy_route(), "dingclientid", response);
}

}  // namespace

// ---- fuzz_config ------------------------------------------------------------------------

TEST_CASE("fuzz_config seeds: valid ones load, bad_ ones fail with located messages", "[fuzz]") {
  int valid = 0;
  int bad = 0;
  for (const fs::path& path : seeds("fuzz_config")) {
    INFO(path.filename().string());
    const std::string yaml = slurp(path);
    const dsb::config::LoadResult result =
        dsb::config::load_string(yaml, "bridge.yaml", dsb::fuzz::config_environment());
    CHECK(result.config.has_value() == result.errors.empty());
    if (starts_with(path, "bad_")) {
      ++bad;
      CHECK_FALSE(result.errors.empty());
      for (const auto& error : result.errors) {
        INFO(error.to_string());
        CHECK_FALSE(error.message.empty());
        CHECK(error.to_string().starts_with("bridge.yaml:"));
      }
    } else {
      ++valid;
      for (const auto& error : result.errors) UNSCOPED_INFO(error.to_string());
      CHECK(result.errors.empty());
    }
  }
  // The corpus covers every section both ways; losing seeds should be noticed.
  CHECK(valid >= 6);
  CHECK(bad >= 8);
}

TEST_CASE("fuzz_config seed full_every_key sets every section away from its default", "[fuzz]") {
  const auto result = dsb::config::load_string(slurp(kCorpus / "fuzz_config" / "full_every_key.yaml"),
                                                "bridge.yaml", dsb::fuzz::config_environment());
  REQUIRE(result.config);
  const dsb::config::Config& config = *result.config;
  CHECK(config.apps[0].dingtalk.client_id == "dingappkey");
  CHECK(config.apps[0].dingtalk.api_base == "https://api.example.test:8443/base");
  CHECK(config.apps[0].dingtalk.connections == 8);
  CHECK(config.log.format == dsb::log::Format::json);
  CHECK(config.defaults.delivery == dsb::config::Delivery::spool);
  REQUIRE(config.apps[0].routes.size() == 5);
  CHECK(config.apps[0].routes[0].format == dsb::config::Format::legacy_robot);
  CHECK(config.apps[0].routes[1].format == dsb::config::Format::legacy_card);
  CHECK(config.apps[0].routes[1].legacy.api_secret == "example-secret");
  CHECK(config.apps[0].routes[1].headers.size() == 2);
  CHECK(config.apps[0].routes[2].signing_secret == "whsec-0123456789");
  CHECK(config.apps[0].routes[3].format == dsb::config::Format::legacy_event);
  CHECK(config.apps[0].routes[3].urls == std::vector<std::string>{"http://127.0.0.1:8081/approvals",
                                                          "http://127.0.0.1:8080/audit"});
  CHECK(config.apps[0].routes[3].retry.max_attempts == 2147483647);
}

TEST_CASE("fuzz_config seed bad_values reports a problem in every section", "[fuzz]") {
  const auto result = dsb::config::load_string(slurp(kCorpus / "fuzz_config" / "bad_values.yaml"),
                                                "bridge.yaml", dsb::fuzz::config_environment());
  std::string all;
  for (const auto& error : result.errors) all += error.to_string() + "\n";
  INFO(all);
  for (const char* needle : {"dingtalk.api_base", "dingtalk.connections", "dingtalk.proxy",
                             "dingtalk.keepalive.ping_idle", "dingtalk.reconnect.max",
                             "admin.listen", "state_dir", "log.level", "log.format",
                             "limits.max_frame", "defaults.max_in_flight", "unknown top-level key",
                             "is too large", "already used by the route"}) {
    CHECK(all.find(needle) != std::string::npos);
  }
}

// ---- fuzz_frame -------------------------------------------------------------------------

TEST_CASE("fuzz_frame seeds: frames of every type parse, bad_ and regress_ ones are refused", "[fuzz]") {
  using dsb::stream::FrameType;
  int accepted = 0;
  for (const fs::path& path : seeds("fuzz_frame")) {
    // fragments_* use the fuzzer's own fragment layout, not a frame text.
    if (starts_with(path, "fragments_")) continue;
    INFO(path.filename().string());
    const std::string text = slurp(path);
    const dsb::stream::ParsedFrame parsed = dsb::stream::parse_frame(text);
    CHECK(parsed.status.is_ok() == parsed.frame.has_value());
    if (starts_with(path, "bad_") || starts_with(path, "regress_")) {
      CHECK_FALSE(parsed.status.is_ok());
      CHECK_FALSE(parsed.status.message().empty());
      continue;
    }
    ++accepted;
    REQUIRE(parsed.frame);
    CHECK_FALSE(parsed.message_id.empty());
    const std::string name = path.filename().string();
    const FrameType expected = name.starts_with("system_")  ? FrameType::system
                               : name.starts_with("event_") ? FrameType::event
                                                            : FrameType::callback;
    CHECK(parsed.frame->type == expected);
  }
  CHECK(accepted >= 10);
}

TEST_CASE("fuzz_frame regress_ seeds are refused for their depth and still ACKable", "[fuzz]") {
  for (const char* name : {"regress_deep_data.json", "regress_deep_envelope.json"}) {
    INFO(name);
    const auto parsed = dsb::stream::parse_frame(slurp(kCorpus / "fuzz_frame" / name));
    CHECK_FALSE(parsed.status.is_ok());
    CHECK(parsed.status.message().find("nests deeper") != std::string::npos);
    CHECK(parsed.message_id == "m-deep");
  }
}

// ---- fuzz_legacy ------------------------------------------------------------------------

TEST_CASE("fuzz_legacy seeds: only the correct success replies are delivered", "[fuzz]") {
  const std::vector<std::string> delivered = {
      "reply_v3_success.json", "reply_v3_number_timestamp_upper_hex.json",
      "reply_v3_python_wrapped_success.json", "reply_v3_php_seconds_number.json"};
  int replies = 0;
  for (const fs::path& path : seeds("fuzz_legacy")) {
    const std::string name = path.filename().string();
    if (!name.starts_with("reply_") && !name.starts_with("regress_")) continue;
    INFO(name);
    ++replies;
    const auto verdict = judge(slurp(path));
    CHECK(verdict.delivered == verdict.reason.empty());
    const bool want = std::find(delivered.begin(), delivered.end(), name) != delivered.end();
    CHECK(verdict.delivered == want);
  }
  CHECK(replies >= 15);
}

TEST_CASE("fuzz_legacy seeds: each signed but wrong reply fails for its own reason", "[fuzz]") {
  const std::pair<const char*, const char*> cases[] = {
      {"reply_v1_signed_not_success.json", "not \"success\""},
      {"reply_v2_signed_not_success.json", "not \"success\""},
      {"reply_v4_signed_not_success.json", "not \"success\""},
      {"reply_v3_wrong_owner.json", "owner key"},
      {"reply_v3_no_owner.json", "owner key"},
      {"reply_v3_length_too_big.json", "length field"},
      {"reply_v3_pad_zero.json", "bad padding"},
      {"reply_v3_pad_33.json", "bad padding"},
      {"reply_v3_pad_bytes_differ.json", "bad padding"},
      {"reply_v3_short.json", "too short"},
      {"reply_bad_signature.json", "msg_signature does not verify"},
      {"reply_o3_other_key.json", "msg_signature does not verify"},
      {"reply_missing_signature.json", "has no msg_signature"},
      // Numbers are read as the text the app signed, so this one gets as far as the signature.
      {"reply_encrypt_number.json", "msg_signature does not verify"},
      {"reply_encrypt_bool.json", "has a non-text encrypt"},
      {"reply_not_object.json", "not a JSON object"},
      {"regress_deep_reply.json", "nests deeper"},
  };
  for (const auto& [name, reason] : cases) {
    INFO(name);
    const auto verdict = judge(slurp(kCorpus / "fuzz_legacy" / name));
    CHECK_FALSE(verdict.delivered);
    CHECK(verdict.reason.find(reason) != std::string::npos);
  }
}

TEST_CASE("fuzz_legacy regress_plaintext_quotes_msg_signature: a signed reply whose message "
          "names msg_signature fails for its message, not its signature", "[fuzz]") {
  const auto crypto = dsb::deliver::CallbackCrypto::create(
      dsb::fuzz::kLegacyToken, dsb::fuzz::kLegacyAesKey, dsb::fuzz::kLegacyOwnerKey);
  REQUIRE(crypto.is_ok());
  const std::string encrypt = crypto.value().encrypt("QwErTyUiOpAsDfGh", R"({"Emsg_signature"})");
  const std::string reply = "{\"msg_signature\":\"" +
                            crypto.value().sign("1700000000000", "nonce123", encrypt) +
                            "\",\"timeStamp\":\"1700000000000\",\"nonce\":\"nonce123\"," +
                            "\"encrypt\":\"" + encrypt + "\"}";
  const auto verdict = judge(reply);
  CHECK_FALSE(verdict.delivered);
  CHECK_THAT(verdict.reason,
             Catch::Matchers::StartsWith("event reply decrypts to \"{\"Emsg_signature"));
  CHECK(verdict.reason.find("does not verify") == std::string::npos);
}

TEST_CASE("fuzz_legacy seeds: the V1, V2 and V4 ciphertexts decrypt to their messages", "[fuzz]") {
  const auto crypto = dsb::deliver::CallbackCrypto::create(
      dsb::fuzz::kLegacyToken, dsb::fuzz::kLegacyAesKey, dsb::fuzz::kLegacyOwnerKey);
  REQUIRE(crypto.is_ok());
  for (const char* vector : {"v1", "v2", "v4"}) {
    INFO(vector);
    const std::string encrypt = slurp(kCorpus / "fuzz_legacy" / (std::string("encrypt_") + vector + ".b64"));
    const auto message = crypto.value().decrypt(encrypt);
    REQUIRE(message.is_ok());
    CHECK(message.value() == slurp(kCorpus / "fuzz_legacy" / (std::string("message_") + vector + ".json")));
  }
}

// ---- fuzz_graph -------------------------------------------------------------------------

TEST_CASE("fuzz_graph seeds: SDK-shaped graph requests parse, bad_ and regress_ ones are refused",
          "[fuzz]") {
  int accepted = 0;
  int refused = 0;
  for (const fs::path& path : seeds("fuzz_graph")) {
    INFO(path.filename().string());
    const std::string text = slurp(path);
    const auto parsed = dsb::deliver::parse_graph_request(text);
    // As an answer's body too: regress_utf8_lead_at_end once made the UTF-8 check read past
    // the end of the body (RapidJSON's validating writer).
    const auto answer = dsb::deliver::graph_response(200, "OK", {}, text);
    if (answer) CHECK(answer.value().find("\"body\":") != std::string::npos);
    if (starts_with(path, "bad_") || starts_with(path, "regress_")) {
      CHECK_FALSE(parsed);
      if (!parsed) CHECK(parsed.status().message().starts_with("graph request: "));
      ++refused;
    } else {
      CHECK(parsed);
      ++accepted;
    }
  }
  CHECK(accepted >= 4);
  CHECK(refused >= 8);
}
