#include "openapi/answer.hpp"

#include <rapidjson/document.h>

#include <cstdlib>

#include <optional>
#include <string_view>

#include "common/json.hpp"

namespace dsb::openapi {
namespace {

constexpr int64_t kErrcodeInvalidToken = 40014;
constexpr int64_t kErrcodeInvalidTokenOld = 88;
constexpr int64_t kErrcodeSendTooFast = 130101;

// DingTalk's error fields; absent ones stay empty. `errcode` 0 means success.
struct ErrorFields {
  std::string code;                // v1.0 APIs: "InvalidAuthentication", ...
  std::optional<int64_t> errcode;  // legacy: 40014, 130101, ...
};

bool is_printable_code(std::string_view code) {
  if (code.empty() || code.size() > 100) return false;
  for (char c : code) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

ErrorFields error_fields(std::string_view body) {
  ErrorFields fields;
  rapidjson::Document doc;
  if (!json::parse(doc, body) || !doc.IsObject()) return fields;
  if (auto code = json::string_member(doc, "code"); code && is_printable_code(*code))
    fields.code = std::string(*code);
  auto errcode = doc.FindMember("errcode");
  if (errcode != doc.MemberEnd()) {
    if (errcode->value.IsInt64()) {
      fields.errcode = errcode->value.GetInt64();
    } else if (errcode->value.IsString()) {
      char* end = nullptr;
      const char* text = errcode->value.GetString();
      long long value = std::strtoll(text, &end, 10);
      if (end != text && *end == '\0') fields.errcode = value;
    }
  }
  // Some gateways put a legacy number in `code`.
  if (!fields.errcode && !fields.code.empty() &&
      fields.code.find_first_not_of("0123456789") == std::string::npos && fields.code.size() < 10)
    fields.errcode = std::stoll(fields.code);
  return fields;
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::string describe(const deliver::Response& response, const ErrorFields& fields) {
  if (response.status == 0) return "no answer: " + response.error;
  std::string text = "HTTP " + std::to_string(response.status);
  if (!fields.code.empty()) text += " (" + fields.code + ")";
  if (fields.errcode && *fields.errcode != 0)
    text += " errcode " + std::to_string(*fields.errcode);
  return text;
}

}  // namespace

Answer classify_answer(const deliver::Response& response) {
  const ErrorFields fields = error_fields(response.body);
  const std::string reason = describe(response, fields);
  const bool errcode_set = fields.errcode && *fields.errcode != 0;
  if (fields.code == "InvalidAuthentication" || response.status == 401 ||
      (errcode_set && (*fields.errcode == kErrcodeInvalidToken ||
                       *fields.errcode == kErrcodeInvalidTokenOld))) {
    return {AnswerKind::invalid_token, reason};
  }
  if (response.status == 429 || (errcode_set && *fields.errcode == kErrcodeSendTooFast) ||
      starts_with(fields.code, "Forbidden.AccessDenied.QpsLimit") ||
      starts_with(fields.code, "Throttling")) {
    return {AnswerKind::rate_limited, reason};
  }
  if (response.is_2xx() && !errcode_set) return {AnswerKind::ok, ""};
  return {AnswerKind::failed, reason};
}

std::string describe_failure(const deliver::Response& response) {
  return describe(response, error_fields(response.body));
}

}  // namespace dsb::openapi
