#include "bridge/session_webhook.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
#include <string>

namespace dsb::bridge {
namespace {

// Scheme and host lower-cased, port explicit (the scheme's default when the URL has none).
struct Origin {
  std::string scheme;
  std::string host;
  std::string port;
  bool operator==(const Origin&) const = default;
};

std::string lowered(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::optional<std::string> part(CURLU* url, CURLUPart which, unsigned flags = 0) {
  char* value = nullptr;
  if (curl_url_get(url, which, &value, flags) != CURLUE_OK) return std::nullopt;
  std::string out(value);
  curl_free(value);
  return out;
}

std::optional<Origin> origin_of(std::string_view text) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> url(curl_url(), curl_url_cleanup);
  if (!url) return std::nullopt;
  // Non-http schemes must parse too, to be named in the refusal; nothing guesses a scheme.
  if (curl_url_set(url.get(), CURLUPART_URL, std::string(text).c_str(),
                   CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
    return std::nullopt;
  }
  auto scheme = part(url.get(), CURLUPART_SCHEME);
  auto host = part(url.get(), CURLUPART_HOST);
  auto port = part(url.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (!scheme) return std::nullopt;
  return Origin{lowered(*scheme), lowered(host.value_or("")), port.value_or("")};
}

}  // namespace

Status check_session_webhook(std::string_view session_webhook, std::string_view api_base) {
  std::optional<Origin> target = origin_of(session_webhook);
  if (!target) return Status::error("sessionWebhook is not a URL");
  if (target->scheme == "https") return Status::ok();
  std::optional<Origin> gateway = origin_of(api_base);
  if (gateway && *target == *gateway) return Status::ok();
  return Status::error("sessionWebhook is neither https nor on dingtalk.api_base (scheme " +
                       target->scheme + ")");
}

}  // namespace dsb::bridge
