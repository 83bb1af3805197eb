// `dingtalk.ca_file` is an *extra* CA bundle (product.md section 3: "extra CA bundle; TLS
// is always verified"), for a TLS-inspecting proxy in front of DingTalk. CURLOPT_CAINFO
// would replace the system bundle, so the file is instead added, from the
// CURLOPT_SSL_CTX_FUNCTION callback, to the store curl already loaded. lws does the same
// for the websocket (client_ssl_ca_filepath is loaded on top of the OS defaults).
//
// The extra trust must stay with the transfers that asked for it. The HTTP client's multi
// handle also carries webhooks, and curl would lose the extra CA or carry it over to them
// three ways, each closed here for a transfer with an extra CA:
//   - the CA cache (CURLOPT_CA_CACHE_TIMEOUT, curl >= 7.87; active only when curl has no CA
//     path: Debian's build has one, other builds need not): every connection of a multi
//     handle then shares one X509_STORE. With curl 7.88 the extra CA is then silently lost
//     (the cached store takes the place of the one the callback added to;
//     tests/unit/extra_ca_test.cpp shows it); where the order is the other way round, the
//     callback would add the CA to the store everyone shares. Off: the transfer gets a
//     store of its own.
//   - the connection cache: a connection verified with the extra CA would be reused by the
//     next transfer to that host:port, whose own trust never sees it. CURLOPT_FORBID_REUSE
//     closes it after the transfer (one full TLS handshake per request; the requests that
//     carry an extra CA are replies and token fetches to DingTalk, not the webhook load).
//   - the TLS session cache of the (pooled) easy handle: a resumed session skips the
//     certificate check. CURLOPT_SSL_SESSIONID_CACHE off.
// A transfer without an extra CA is left untouched (CA cache and connection reuse on).
#pragma once

#include <curl/curl.h>

#include <string>

#include "common/status.hpp"

namespace dsb {

// Makes the transfer on `easy` trust the PEM bundle at `ca_file` on top of curl's own CAs,
// for its connections only (see above). "" does nothing. Fails when libcurl refuses an
// option (a TLS backend without SSL_CTX callbacks): the caller must not use the handle
// then. A file OpenSSL cannot read fails the transfer with CURLE_SSL_CACERT_BADFILE.
// REQUIRES: `ca_file` outlives the transfer (curl keeps a pointer to it).
Status trust_extra_ca(CURL* easy, const std::string& ca_file);

}  // namespace dsb
