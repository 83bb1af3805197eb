// legacy-event: frame -> signed, encrypted push (V1 on the wire, byte for byte), and the
// reading of the app's reply (V3, O2 and the variants real libraries send).
#include <catch2/catch.hpp>

#include <algorithm>

#include "deliver/callback_crypto.hpp"
#include "deliver/legacy_event_format.hpp"
#include "deliver/signature.hpp"

using namespace dsb::deliver;
using dsb::config::Format;
using dsb::config::Route;
using dsb::stream::Frame;
using dsb::stream::FrameType;

namespace {

const char* const kKey = "Wq3mZ8vK2pT7rX9yB4nC6dF1hJ5gL0sA2eR8tY3uI7o";
const char* const kAppKey = "dingbridgeappkey0001";

// Hands out the fixed nonce (8 chars) and random prefix (16 chars) of a vector.
class FixedRandom : public RandomSource {
 public:
  FixedRandom(std::string nonce, std::string prefix) : nonce_(std::move(nonce)), prefix_(std::move(prefix)) {}
  std::string alphanumeric(std::size_t length) override {
    ++calls;
    if (length == nonce_.size()) return nonce_;
    REQUIRE(length == prefix_.size());
    return prefix_;
  }
  int calls = 0;

 private:
  std::string nonce_;
  std::string prefix_;
};

Route event_route(std::string owner_key = "") {
  Route route;
  route.name = "legacy";
  route.event = "*";
  route.urls = {"http://127.0.0.1:9/legacy/callback"};
  route.format = Format::legacy_event;
  route.timeout = std::chrono::milliseconds(1500);
  route.legacy.token = "bridgeToken123";
  route.legacy.aes_key = kKey;
  route.legacy.owner_key = std::move(owner_key);
  return route;
}

Frame event_frame(std::string data) {
  Frame f;
  f.type = FrameType::event;
  f.headers = {{"messageId", "m-1"},
               {"topic", "*"},
               {"eventType", "user_add_org"},
               {"eventId", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"},
               {"eventBornTime", "1700000000000"},
               {"eventCorpId", "ding0123456789abcdef0123456789abcdef"},
               {"eventUnifiedAppId", "app-1"}};
  f.data = std::move(data);
  return f;
}

dsb::deliver::Response reply(std::string body) {
  dsb::deliver::Response r;
  r.status = 200;
  r.body = std::move(body);
  return r;
}

const char* const kV3Reply =
    R"({"msg_signature":"8e65e2fcd2d231d3cfc5d3c759e4b9c72d5a93cf","timeStamp":"1700000001234","nonce":"pOiUyTrEwQ123456","encrypt":"1I3XfUq+b5XO/+Xw0ji6WOjl6v1KJeItseoMyyv/t0k56YPZnZgl1921UDKn5YQtUACwuMnVRTwt2qHf9TTvOw=="})";

}  // namespace

TEST_CASE("event plaintext: header fields first, then data's members as written", "[legacy][format]") {
  auto text = event_plaintext(event_frame(R"({"timeStamp":"1700000000000","userId":["user001"]})"));
  REQUIRE(text.is_ok());
  CHECK(text.value() ==
        R"({"EventType":"user_add_org","EventTime":1700000000000,"CorpId":"ding0123456789abcdef0123456789abcdef","eventId":"0f1e2d3c4b5a69788796a5b4c3d2e1f0","timeStamp":"1700000000000","userId":["user001"]})");
}

TEST_CASE("event plaintext: data text kept byte for byte, non-ASCII included", "[legacy][format]") {
  Frame f = event_frame("{ \"n\": 1.50e1, \"title\": \"\xE5\xBC\x80\\u653e\" }");
  auto text = event_plaintext(f);
  REQUIRE(text.is_ok());
  CHECK(text.value() ==
        "{\"EventType\":\"user_add_org\",\"EventTime\":1700000000000,\"CorpId\":"
        "\"ding0123456789abcdef0123456789abcdef\",\"eventId\":\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\","
        "\"n\": 1.50e1, \"title\": \"\xE5\xBC\x80\\u653e\"}");
}

TEST_CASE("event plaintext: absent headers left out, odd born time quoted, empty data",
          "[legacy][format]") {
  Frame f;
  f.type = FrameType::event;
  f.headers = {{"messageId", "m"}, {"eventType", "check_in"}, {"eventBornTime", "soon"}};
  f.data = " {} ";
  auto text = event_plaintext(f);
  REQUIRE(text.is_ok());
  CHECK(text.value() == R"({"EventType":"check_in","EventTime":"soon"})");
}

TEST_CASE("event plaintext: data's own field wins over the header of the same name",
          "[legacy][format]") {
  auto text = event_plaintext(event_frame(R"({"CorpId":"from-data","eventId":"e"})"));
  REQUIRE(text.is_ok());
  CHECK(text.value() ==
        R"({"EventType":"user_add_org","EventTime":1700000000000,"CorpId":"from-data","eventId":"e"})");
}

TEST_CASE("event plaintext: data that is not an object is refused", "[legacy][format]") {
  for (const char* data : {"[1]", "\"x\"", "{", ""}) {
    auto text = event_plaintext(event_frame(data));
    REQUIRE_FALSE(text.is_ok());
    CHECK(text.status().message() == "event data is not a JSON object");
  }
}

TEST_CASE("signed_event_url appends the four parameters", "[legacy][format]") {
  CHECK(signed_event_url("http://h/cb", "S", "T", "N") ==
        "http://h/cb?signature=S&msg_signature=S&timestamp=T&nonce=N");
  CHECK(signed_event_url("http://h/cb?app=1", "S", "T", "N") ==
        "http://h/cb?app=1&signature=S&msg_signature=S&timestamp=T&nonce=N");
  CHECK(signed_event_url("http://h/cb?", "S", "T", "N") ==
        "http://h/cb?signature=S&msg_signature=S&timestamp=T&nonce=N");
  CHECK(signed_event_url("http://h/cb#top", "S", "T", "N") ==
        "http://h/cb?signature=S&msg_signature=S&timestamp=T&nonce=N#top");
}

TEST_CASE("legacy-event build reproduces V1 on the wire", "[legacy][format]") {
  // V1's plaintext has BizId between CorpId and eventId; a frame whose data starts with
  // BizId and eventId yields exactly that order (data's eventId replaces the header's).
  Frame f = event_frame(
      R"({"BizId":"user001","eventId":"0f1e2d3c4b5a69788796a5b4c3d2e1f0","timeStamp":"1700000000000","userId":["user001"]})");
  Route route = event_route();
  FixedRandom random("Ab3dE6gH", "aBcDeFgHiJkLmNoP");
  LegacyEventFormat format(random);
  const std::string url = "http://127.0.0.1:9/legacy/callback";
  auto request = format.build({route, url, f, "0f1e", 1700000000000, kAppKey, "unused-secret"});
  REQUIRE(request.is_ok());
  CHECK(request->url ==
        "http://127.0.0.1:9/legacy/callback?signature=b902ec6d3e811fed4fdc0f8c44dc651ba92ce145"
        "&msg_signature=b902ec6d3e811fed4fdc0f8c44dc651ba92ce145&timestamp=1700000000000&nonce=Ab3dE6gH");
  CHECK(request->body ==
        R"({"encrypt":"w8gKnVejqHzNDbdzz3vm++33EJgHc+WXw5myAOswlVg5DHilb160y/rx5gDgkLfHeaxnFceiZgRVElBqHYwmZ7hAv5pfQ7Xhsv4Zwleg/gGb7Vao1f+BCcm0vikzbACtbO9QSqSiElctQJvxnj5pZCLOeM6KYH43L+TraQndgZlmYCgNmDxxhEvqj9rMlYWCspMb3B/hGrqjgbBkhXMd7gIRnuxstwSXb3OJmXQR2nErlMqS7jp1re7QwQjhT1IXQWXR84fK9JBIFmF12w3591qLk6Krtak6+XhVbfhf12wiungFZVzlksKWEj9/TihcnS9QSsWTbG+/4r1hiAG4kA=="})");
  CHECK(request->headers == std::vector<std::pair<std::string, std::string>>{
                                {"Content-Type", "application/json"}});
  CHECK(request->timeout.count() == 1500);
  CHECK(random.calls == 2);
}

TEST_CASE("legacy-event build: owner key defaults to the client id, static headers and signing added",
          "[legacy][format]") {
  Route route = event_route();
  route.headers = {{"content-type", "text/plain"}, {"Authorization", "Bearer x"}};
  route.signing_secret = "s3cret";
  FixedRandom random("Zx9Cv8Bn", "QwErTyUiOpAsDfGh");
  LegacyEventFormat format(random);
  Frame f = event_frame(R"({"userId":["u"]})");
  auto request = format.build({route, route.urls[0], f, "", 1700000001000, "dingclientid", ""});
  REQUIRE(request.is_ok());
  REQUIRE(request->headers.size() == 4);
  CHECK(request->headers[0] == std::pair<std::string, std::string>{"Content-Type", "application/json"});
  CHECK(request->headers[1] == std::pair<std::string, std::string>{"Authorization", "Bearer x"});
  CHECK(request->headers[2] == std::pair<std::string, std::string>{"X-Bridge-Timestamp", "1700000001000"});
  CHECK(request->headers[3].second == bridge_signature("s3cret", "1700000001000", request->body));

  // The body opens with the client id as owner key and the frame's plaintext inside.
  const std::string body = request->body;
  const std::string encrypt = body.substr(12, body.size() - 14);
  auto crypto = CallbackCrypto::create("bridgeToken123", kKey, "dingclientid").value();
  auto message = crypto.decrypt(encrypt);
  REQUIRE(message.is_ok());
  CHECK(message.value() == event_plaintext(f).value());
  CHECK_THAT(request->url, Catch::Contains("signature=" + crypto.sign("1700000001000", "Zx9Cv8Bn", encrypt)));
}

TEST_CASE("legacy-event check_url push reproduces V2", "[legacy][format]") {
  Route route = event_route(kAppKey);
  FixedRandom random("Zx9Cv8Bn", "QwErTyUiOpAsDfGh");
  LegacyEventFormat format(random);
  auto request = format.build_check_url(route, "http://h/cb", 1700000001000, "ignored-client-id");
  REQUIRE(request.is_ok());
  CHECK(request->url ==
        "http://h/cb?signature=62b08e924513428c9b42bbb8118acc7fd7a1acb1"
        "&msg_signature=62b08e924513428c9b42bbb8118acc7fd7a1acb1&timestamp=1700000001000&nonce=Zx9Cv8Bn");
  CHECK(request->body ==
        R"({"encrypt":"IlOZUEkVGLak1aC4I9R//z2wZ8MRHxz7nCPLxc46mTurWUnd/Xn6cPhM6ei0NlcPD1HSXBuJxQWglukZS4w/bVdY1QG9YvesmMPRUgKsz52WW5UnNF4JNMHyQgjtj0OL"})");
}

TEST_CASE("legacy-event build fails on data that is not an object", "[legacy][format]") {
  Route route = event_route();
  FixedRandom random("Zx9Cv8Bn", "QwErTyUiOpAsDfGh");
  LegacyEventFormat format(random);
  Frame f = event_frame("[]");
  auto request = format.build({route, route.urls[0], f, "", 1, kAppKey, ""});
  REQUIRE_FALSE(request.is_ok());
  CHECK(request.status().message() == "event data is not a JSON object");
}

TEST_CASE("legacy-event build with the system random: fresh alphanumeric nonces",
          "[legacy][format]") {
  Route route = event_route();
  const auto& format = dsb::deliver::format_for(Format::legacy_event);
  Frame f = event_frame("{}");
  auto a = format.build({route, route.urls[0], f, "", 1, kAppKey, ""});
  auto b = format.build({route, route.urls[0], f, "", 1, kAppKey, ""});
  REQUIRE(a.is_ok());
  REQUIRE(b.is_ok());
  CHECK(a->body != b->body);
  const std::string nonce = a->url.substr(a->url.find("&nonce=") + 7);
  CHECK(nonce.size() == 8);
  CHECK(nonce.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") ==
        std::string::npos);
  auto crypto = CallbackCrypto::create("bridgeToken123", kKey, kAppKey).value();
  auto opened = crypto.open(a->body.substr(12, a->body.size() - 14));
  REQUIRE(opened.is_ok());
  CHECK(opened->random.find_first_not_of(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == std::string::npos);
}

TEST_CASE("legacy-event judge: V3 is a delivery", "[legacy][format]") {
  const auto& format = dsb::deliver::format_for(Format::legacy_event);
  ReplyVerdict verdict = format.judge(event_route(kAppKey), "other-client-id", reply(kV3Reply));
  CHECK(verdict.delivered);
  CHECK(verdict.reason.empty());
  CHECK(verdict.reply.empty());
  // The owner key defaults to the client id.
  CHECK(format.judge(event_route(), kAppKey, reply(kV3Reply)).delivered);
}

TEST_CASE("legacy-event judge: the official O2 reply, timeStamp as string or JSON number",
          "[legacy][format]") {
  Route route = event_route("dingsnotzck6pm5veliw");
  route.legacy.token = "123456";
  route.legacy.aes_key = "1234567890123456789012345678901234567890123";
  const auto& format = dsb::deliver::format_for(Format::legacy_event);
  const std::string encrypt =
      "YvkvaGe4hQxd3VxRmEty0dVlnCOAqwf56xwTRHDHoOURqhalbmBJQk5FNcRk42Gl5T0YQXZNwpwWSm1xAFJ5ZA==";
  const std::string tail = R"(,"nonce":"A7Co0cJLMzIDtMMI","encrypt":")" + encrypt + "\"}";
  CHECK(format.judge(route, "", reply(R"({"msg_signature":"9a95a004dd16f5c307e849b994173f76aa26e5eb","timeStamp":"1614767836")" + tail)).delivered);
  // PHP's json_encode(time()) sends a number: signed as its decimal text.
  CHECK(format.judge(route, "", reply(R"({"msg_signature":"9a95a004dd16f5c307e849b994173f76aa26e5eb","timeStamp":1614767836)" + tail)).delivered);
  // Key order, spacing and extra keys do not matter; upper-case hex is fine.
  CHECK(format.judge(route, "", reply(R"({ "errcode": 0, "encrypt": ")" + encrypt +
                                      R"(", "nonce": "A7Co0cJLMzIDtMMI", "timeStamp": "1614767836", "msg_signature": "9A95A004DD16F5C307E849B994173F76AA26E5EB" })"))
            .delivered);
}

TEST_CASE("legacy-event judge: encrypt with encodebytes newlines, signed over the newlines",
          "[legacy][format]") {
  // What Python's encodebytes makes of a long ciphertext: "\n" every 76 characters and at
  // the end. The app signs that text, newlines included.
  auto crypto = CallbackCrypto::create("bridgeToken123", kKey, kAppKey).value();
  std::string wrapped = crypto.encrypt("MnBvCxZlKjHgFdSa", std::string(60, 'x'));
  REQUIRE(wrapped.size() > 76);
  wrapped.insert(76, "\n");
  wrapped += "\n";
  std::string escaped = wrapped;  // as JSON text
  for (size_t at = escaped.find('\n'); at != std::string::npos; at = escaped.find('\n', at)) {
    escaped.replace(at, 1, "\\n");
  }
  auto body_signed_over = [&](const std::string& signed_text) {
    return R"({"msg_signature":")" + crypto.sign("1700000001", "abc", signed_text) +
           R"(","timeStamp":"1700000001","nonce":"abc","encrypt":")" + escaped + "\"}";
  };
  const auto& format = dsb::deliver::format_for(Format::legacy_event);
  // Signed over the exact text: verifies, decrypts (to 60 x's, so not a success).
  CHECK(format.judge(event_route(kAppKey), "", reply(body_signed_over(wrapped))).reason ==
        "event reply decrypts to \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\", not \"success\"");
  // Signed over the text without newlines: does not verify the text with them.
  std::string flat = wrapped;
  flat.erase(std::remove(flat.begin(), flat.end(), '\n'), flat.end());
  CHECK(format.judge(event_route(kAppKey), "", reply(body_signed_over(flat))).reason ==
        "event reply msg_signature does not verify (wrong token?)");

  // And an encrypted "success" with a newline in it is a delivery.
  std::string success = crypto.encrypt("MnBvCxZlKjHgFdSa", "success");
  success.insert(40, "\n");
  std::string success_json = success;
  success_json.replace(40, 1, "\\n");
  const std::string body = R"({"msg_signature":")" + crypto.sign("1700000001", "abc", success) +
                           R"(","timeStamp":"1700000001","nonce":"abc","encrypt":")" + success_json + "\"}";
  CHECK(format.judge(event_route(kAppKey), "", reply(body)).delivered);
}

TEST_CASE("legacy-event judge: each bad reply fails with its reason", "[legacy][format]") {
  const auto& format = dsb::deliver::format_for(Format::legacy_event);
  auto crypto = CallbackCrypto::create("bridgeToken123", kKey, kAppKey).value();
  auto signed_reply = [&](const std::string& encrypt) {
    return R"({"msg_signature":")" + crypto.sign("1", "n", encrypt) +
           R"(","timeStamp":"1","nonce":"n","encrypt":")" + encrypt + "\"}";
  };
  auto reason = [&](const std::string& body, Route route = event_route(kAppKey)) {
    ReplyVerdict verdict = format.judge(route, "", reply(body));
    CHECK_FALSE(verdict.delivered);
    CHECK(verdict.reply.empty());
    return verdict.reason;
  };

  CHECK(reason("success") == "event reply is not JSON");
  CHECK(reason("") == "event reply is not JSON");
  CHECK(reason("[1]") == "event reply is not a JSON object");
  CHECK(reason(R"({"timeStamp":"1","nonce":"n","encrypt":"x"})") == "event reply has no msg_signature");
  CHECK(reason(R"({"msg_signature":"s","nonce":"n","encrypt":"x"})") == "event reply has no timeStamp");
  CHECK(reason(R"({"msg_signature":"s","timestamp":"1","nonce":"n","encrypt":"x"})") ==
        "event reply has no timeStamp");
  CHECK(reason(R"({"msg_signature":"s","timeStamp":"1","encrypt":"x"})") == "event reply has no nonce");
  CHECK(reason(R"({"msg_signature":"s","timeStamp":"1","nonce":"n"})") == "event reply has no encrypt");
  CHECK(reason(R"({"msg_signature":"s","timeStamp":null,"nonce":"n","encrypt":"x"})") ==
        "event reply has a non-text timeStamp");
  CHECK(reason(R"({"msg_signature":"s","timeStamp":"1","nonce":{},"encrypt":"x"})") ==
        "event reply has a non-text nonce");

  // V3 judged with a different token: the signature fails first.
  Route wrong_token = event_route(kAppKey);
  wrong_token.legacy.token = "otherToken";
  CHECK(reason(kV3Reply, wrong_token) == "event reply msg_signature does not verify (wrong token?)");
  CHECK(reason(std::string(kV3Reply).replace(18, 1, "0")) ==
        "event reply msg_signature does not verify (wrong token?)");

  CHECK(reason(signed_reply(crypto.encrypt("0123456789abcdef", "fail"))) ==
        "event reply decrypts to \"fail\", not \"success\"");
  CHECK(reason(signed_reply(crypto.encrypt("0123456789abcdef", "success "))) ==
        "event reply decrypts to \"success \", not \"success\"");
  CHECK(reason(signed_reply(crypto.encrypt("0123456789abcdef", "SUCCESS"))) ==
        "event reply decrypts to \"SUCCESS\", not \"success\"");
  CHECK(reason(signed_reply("not*base64")) == "event reply: encrypt is not valid Base64");
  CHECK(reason(signed_reply("AAAA")) ==
        "event reply: ciphertext is 3 bytes, not a non-zero multiple of the AES block (16)");

  auto other_owner = CallbackCrypto::create("bridgeToken123", kKey, "dingsomeoneelse").value();
  const std::string foreign = other_owner.encrypt("0123456789abcdef", "success");
  CHECK(reason(signed_reply(foreign)) ==
        "event reply: owner key \"dingsomeoneelse\" in the ciphertext is not the configured \"dingbridgeappkey0001\"");

  auto other_key = CallbackCrypto::create("bridgeToken123", "1234567890123456789012345678901234567890123", kAppKey).value();
  CHECK_THAT(reason(signed_reply(other_key.encrypt("0123456789abcdef", "success"))),
             Catch::StartsWith("event reply: bad padding"));
}

// Found by tests/fuzz/fuzz_legacy: a webhook answering "[[[[..." crashed the bridge in the
// JSON parser (stack overflow) instead of failing the delivery.
TEST_CASE("legacy-event judge: a reply nested too deep is a failed delivery", "[legacy][format]") {
  FixedRandom random("Zx9Cv8Bn", "QwErTyUiOpAsDfGh");
  LegacyEventFormat format(random);
  auto verdict = format.judge(event_route(kAppKey), "", reply("{\"encrypt\":" + std::string(1'000'000, '[')));
  CHECK_FALSE(verdict.delivered);
  CHECK(verdict.reason == "event reply nests deeper than 256 levels");
}
