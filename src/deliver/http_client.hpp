// Webhook HTTP: one curl multi handle on a thread of its own, so no request ever runs on the
// stream thread. Requests come in through a queue; completions go out through
// `on_complete`, which runs on the HTTP thread and must only hand them on (queue + wake the
// consumer). Both directions move batches: submit() wakes the thread (curl_multi_wakeup)
// only when the queue was empty, the thread takes the whole queue per wake-up, and every
// pass of its loop hands all the transfers that ended in it to `on_complete` at once.
// Connections to a webhook are kept alive and reused across requests by the multi handle's
// connection cache; easy handles are reused too.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "deliver/request.hpp"

namespace dsb::deliver {

using RequestId = uint64_t;

// Why a request got no usable HTTP answer (Response::status == 0).
enum class Failure {
  none,
  timed_out,    // no complete answer within Request::timeout
  unreachable,  // no connection: refused, no route, name not resolved
  too_large,    // the answer's body (or, when collected, headers) exceeded the cap
  other,
};

struct Response {
  int status = 0;     // HTTP status; 0 when the request failed below HTTP
  std::string body;   // at most Options::max_response_body bytes
  // Why it failed below HTTP ("" when status != 0); the URL, if quoted, as redact_url shows it.
  std::string error;
  int64_t elapsed_ms = 0;
  // The Retry-After header as sent ("" when absent): spooled retries of a 429 or 503 wait
  // at least that long (product.md section 11; deliver/retry_after.hpp reads it).
  std::string retry_after;
  Failure failure = Failure::none;
  // Only when Request::want_response_headers: the final answer's reason phrase ("" when
  // it sent none, as HTTP/2 never does) and headers as received, in order, names as sent.
  std::string reason_phrase;
  std::vector<std::pair<std::string, std::string>> headers;

  bool is_2xx() const { return status >= 200 && status < 300; }
};

struct Completion {
  RequestId id = 0;
  Response response;
};

class HttpClient {
 public:
  struct Options {
    size_t max_response_body = 1024 * 1024;  // a longer reply is a failed delivery
    // Collected response headers (want_response_headers) beyond this total are a failure
    // too: they are copied into a JSON reply.
    size_t max_response_headers = 64 * 1024;
    long max_host_connections = 0;           // 0 = no limit (routes bound concurrency)
    // Idle kept-alive connections kept for reuse. curl's default (4 x the transfers running
    // at the moment) shrinks whenever the load dips and closes connections that the next
    // burst has to open again.
    long max_idle_connections = 256;
  };

  // `on_complete` gets every completion exactly once, in batches that are never empty.
  HttpClient(Options options, std::function<void(std::vector<Completion>)> on_complete);
  // Stops the thread; transfers still running complete with error "shutting down".
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Thread-safe. The id is unique for this client's lifetime.
  RequestId submit(Request request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dsb::deliver
