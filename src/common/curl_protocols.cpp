#include "common/curl_protocols.hpp"

#include <string>

namespace dsb {

Status restrict_to_http(CURL* easy) {
  for (CURLoption option : {CURLOPT_PROTOCOLS_STR, CURLOPT_REDIR_PROTOCOLS_STR}) {
    const CURLcode code = curl_easy_setopt(easy, option, "http,https");
    if (code != CURLE_OK) {
      return Status::error(std::string("cannot restrict curl to http and https: ") +
                           curl_easy_strerror(code));
    }
  }
  return Status::ok();
}

}  // namespace dsb
