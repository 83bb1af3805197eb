// Every curl easy handle the bridge makes speaks http and https only, redirects included.
// URLs reach curl from frames (a robot message's sessionWebhook) as well as from the
// config, and libcurl as packaged also speaks gopher, dict, telnet, file, ldap, smtp, ...:
// one of those in a URL would make the bridge send bytes of the attacker's choosing to any
// port it can reach. Call this on every handle, after every curl_easy_reset().
#pragma once

#include <curl/curl.h>

#include "common/status.hpp"

namespace dsb {

// Sets CURLOPT_PROTOCOLS_STR and CURLOPT_REDIR_PROTOCOLS_STR to "http,https". A transfer
// to any other scheme then fails with CURLE_UNSUPPORTED_PROTOCOL before it connects.
// Fails when libcurl refuses the options (older than 7.85): the caller must not use the
// handle then.
Status restrict_to_http(CURL* easy);

}  // namespace dsb
