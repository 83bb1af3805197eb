#include "common/extra_ca.hpp"

#include <openssl/ssl.h>

namespace dsb {
namespace {

// A C callback: nothing here throws.
extern "C" CURLcode add_extra_ca(CURL*, void* ssl_ctx, void* user) noexcept {
  const auto* ca_file = static_cast<const std::string*>(user);
  if (SSL_CTX_load_verify_locations(static_cast<SSL_CTX*>(ssl_ctx), ca_file->c_str(),
                                    nullptr) != 1) {
    return CURLE_SSL_CACERT_BADFILE;
  }
  return CURLE_OK;
}

}  // namespace

Status trust_extra_ca(CURL* easy, const std::string& ca_file) {
  if (ca_file.empty()) return Status::ok();
  struct Setting {
    const char* name;
    CURLcode code;
  };
  const Setting settings[] = {
      {"CURLOPT_SSL_CTX_FUNCTION",
       curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, add_extra_ca)},
      {"CURLOPT_SSL_CTX_DATA",
       curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, const_cast<std::string*>(&ca_file))},
      {"CURLOPT_CA_CACHE_TIMEOUT",
       curl_easy_setopt(easy, CURLOPT_CA_CACHE_TIMEOUT, 0L)},
      {"CURLOPT_FORBID_REUSE",
       curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L)},
      {"CURLOPT_SSL_SESSIONID_CACHE",
       curl_easy_setopt(easy, CURLOPT_SSL_SESSIONID_CACHE, 0L)},
  };
  for (const Setting& setting : settings) {
    if (setting.code != CURLE_OK) {
      return Status::error(std::string("cannot add the extra CA bundle (") + setting.name +
                           "): " + curl_easy_strerror(setting.code));
    }
  }
  return Status::ok();
}

}  // namespace dsb
