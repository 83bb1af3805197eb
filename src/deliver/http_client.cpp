#include "deliver/http_client.hpp"

#include <curl/curl.h>

#include <atomic>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"
#include "common/curl_protocols.hpp"
#include "common/extra_ca.hpp"
#include "common/log.hpp"
#include "common/thread_name.hpp"
#include "config/url.hpp"

namespace dsb::deliver {
namespace {

// Easy handles kept for reuse beyond this many are cleaned up (one per concurrent transfer
// is what a steady load needs; routes bound concurrency to max_in_flight each).
constexpr size_t kMaxIdleHandles = 256;

// Everything one transfer owns; lives on the HTTP thread from submit to completion. The
// easy handle is lent by Impl (returned to its pool when the transfer ends).
struct Transfer {
  RequestId id = 0;
  Request request;
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  std::string body;
  size_t max_body = 0;
  bool body_too_large = false;
  // want_response_headers only: the latest response's status line and headers (an interim
  // 1xx response's are replaced by the final one's).
  std::string reason_phrase;
  std::vector<std::pair<std::string, std::string>> headers;
  size_t header_bytes = 0;
  size_t max_header_bytes = 0;
  bool headers_too_large = false;
  int64_t started_ms = 0;
  char error[CURL_ERROR_SIZE] = {};

  ~Transfer() {
    if (header_list) curl_slist_free_all(header_list);
  }
};

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  if (from.empty() || from == to) return;
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// curl's error texts may quote a URL ("Unsupported proxy syntax in 'http://user:pass@...'"),
// and a webhook's or sessionWebhook's query carries tokens (?access_token=, ?session=): the
// error goes into logs and dead letters, so a URL in it is shown the way every log line
// shows one (config::redact_url).
std::string without_url_secrets(std::string error, const std::string& url) {
  if (url.empty()) return error;
  const std::string redacted = config::redact_url(url);
  replace_all(error, url, redacted);
  const size_t query = url.find('?');
  const size_t redacted_query = redacted.find('?');
  if (query != std::string::npos && redacted_query != std::string::npos) {
    // The query alone, as "Bad query" style messages quote it.
    replace_all(error, std::string_view(url).substr(query + 1),
                std::string_view(redacted).substr(redacted_query + 1));
  }
  return error;
}

extern "C" size_t collect_body(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  if (transfer->body.size() + bytes > transfer->max_body) {
    transfer->body_too_large = true;
    return 0;  // makes curl fail the transfer with CURLE_WRITE_ERROR
  }
  transfer->body.append(data, bytes);
  return bytes;
}

std::string_view trimmed(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const size_t last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

// One header line as curl hands it over (CURLOPT_HEADERFUNCTION): a status line starts a
// new response, "Name: value" adds a header, a line starting with white space continues
// the previous one (obsolete folding), the empty line ends the block.
extern "C" size_t collect_header(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  const std::string_view line(data, bytes);
  if (line.starts_with("HTTP/")) {
    transfer->headers.clear();
    transfer->header_bytes = 0;
    transfer->reason_phrase.clear();
    // "HTTP/1.1 200 OK": the reason is what follows the second space, if anything.
    const size_t code = line.find(' ');
    const size_t reason = code == std::string_view::npos ? code : line.find(' ', code + 1);
    if (reason != std::string_view::npos) transfer->reason_phrase = trimmed(line.substr(reason + 1));
    return bytes;
  }
  transfer->header_bytes += bytes;
  if (transfer->header_bytes > transfer->max_header_bytes) {
    transfer->headers_too_large = true;
    return 0;  // fails the transfer with CURLE_WRITE_ERROR
  }
  if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
    if (!transfer->headers.empty()) {
      transfer->headers.back().second += ' ';
      transfer->headers.back().second += trimmed(line);
    }
    return bytes;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return bytes;  // the end, or not a header
  transfer->headers.emplace_back(std::string(line.substr(0, colon)),
                                 std::string(trimmed(line.substr(colon + 1))));
  return bytes;
}

Response failed(std::string error, int64_t elapsed_ms = 0) {
  Response response;
  response.error = std::move(error);
  response.failure = Failure::other;
  response.elapsed_ms = elapsed_ms;
  return response;
}

Failure failure_of(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT: return Failure::timed_out;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST: return Failure::unreachable;
    default: return Failure::other;
  }
}

// The request line's method and body (Request::method says which rules apply).
void set_method(CURL* easy, const Request& request) {
  const std::string& method = request.method;
  if (method == "HEAD") {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    return;
  }
  if (method == "GET" && request.body.empty()) {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    return;
  }
  // Every other method, and a GET with a body, send the body as a POST would, under the
  // request's own method name.
  curl_easy_setopt(easy, CURLOPT_POST, 1L);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  if (method != "POST") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method.c_str());
}

}  // namespace

struct HttpClient::Impl {
  Options options;
  std::function<void(std::vector<Completion>)> on_complete;
  CURLM* multi = nullptr;
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::atomic<RequestId> next_id{1};

  std::mutex inbox_mutex;  // guards inbox only
  // Non-empty means a wake-up is on its way: the submit that found it empty sent it, and
  // the thread takes the whole inbox after every wake-up.
  std::vector<std::unique_ptr<Transfer>> inbox;

  // HTTP thread only.
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> running;
  std::vector<CURL*> idle_handles;  // reset, not in the multi handle
  std::vector<Completion> done;     // this pass's completions, handed on together

  void loop();
  void start(std::unique_ptr<Transfer> transfer);
  void finish(CURL* easy, CURLcode code);
  void complete(Transfer& transfer, Response response);
  void hand_on_completions();
  CURL* take_handle();
  void return_handle(CURL* easy);
};

HttpClient::HttpClient(Options options, std::function<void(std::vector<Completion>)> on_complete)
    : impl_(std::make_unique<Impl>()) {
  // Idempotent after the first call; done here so library users need not remember it.
  curl_global_init(CURL_GLOBAL_DEFAULT);
  impl_->options = options;
  impl_->on_complete = std::move(on_complete);
  impl_->multi = curl_multi_init();
  curl_multi_setopt(impl_->multi, CURLMOPT_MAXCONNECTS, options.max_idle_connections);
  if (options.max_host_connections > 0) {
    curl_multi_setopt(impl_->multi, CURLMOPT_MAX_HOST_CONNECTIONS, options.max_host_connections);
  }
  impl_->thread = std::thread([impl = impl_.get()] {
    name_this_thread("dsb-webhooks");
    impl->loop();
  });
}

HttpClient::~HttpClient() {
  impl_->stopping = true;
  curl_multi_wakeup(impl_->multi);
  impl_->thread.join();
  for (CURL* easy : impl_->idle_handles) curl_easy_cleanup(easy);
  curl_multi_cleanup(impl_->multi);
}

RequestId HttpClient::submit(Request request) {
  auto transfer = std::make_unique<Transfer>();
  transfer->id = impl_->next_id.fetch_add(1);
  transfer->request = std::move(request);
  const RequestId id = transfer->id;
  bool wake = false;
  {
    std::lock_guard lock(impl_->inbox_mutex);
    wake = impl_->inbox.empty();
    impl_->inbox.push_back(std::move(transfer));
  }
  if (wake) curl_multi_wakeup(impl_->multi);
  return id;
}

void HttpClient::Impl::loop() {
  std::vector<std::unique_ptr<Transfer>> arrived;
  while (!stopping.load()) {
    {
      std::lock_guard lock(inbox_mutex);
      arrived.swap(inbox);
    }
    for (auto& transfer : arrived) start(std::move(transfer));
    arrived.clear();

    int still_running = 0;
    curl_multi_perform(multi, &still_running);
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
      if (message->msg == CURLMSG_DONE) finish(message->easy_handle, message->data.result);
    }
    hand_on_completions();
    // Sleeps until a socket is ready, a timeout of curl's is due, or submit() wakes us.
    curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }

  // Shutting down: everything not finished is reported, never silently dropped.
  {
    std::lock_guard lock(inbox_mutex);
    for (auto& transfer : inbox) complete(*transfer, failed("shutting down"));
    inbox.clear();
  }
  for (auto& [easy, transfer] : running) {
    curl_multi_remove_handle(multi, easy);
    complete(*transfer, failed("shutting down", steady_ms() - transfer->started_ms));
    curl_easy_cleanup(easy);
  }
  running.clear();
  hand_on_completions();
}

CURL* HttpClient::Impl::take_handle() {
  if (idle_handles.empty()) return curl_easy_init();
  CURL* easy = idle_handles.back();
  idle_handles.pop_back();
  return easy;
}

void HttpClient::Impl::return_handle(CURL* easy) {
  if (idle_handles.size() >= kMaxIdleHandles) {
    curl_easy_cleanup(easy);
    return;
  }
  // Drops every option (and so every pointer into the finished Transfer); keeps the
  // handle's buffers for the next transfer.
  curl_easy_reset(easy);
  idle_handles.push_back(easy);
}

void HttpClient::Impl::start(std::unique_ptr<Transfer> transfer) {
  transfer->easy = take_handle();
  transfer->max_body = options.max_response_body;
  transfer->started_ms = steady_ms();
  CURL* easy = transfer->easy;
  if (easy == nullptr) {
    complete(*transfer, failed("curl_easy_init failed"));
    return;
  }
  // First, so that no other option can run on a handle that speaks more than http(s).
  if (Status restricted = restrict_to_http(easy); !restricted) {
    complete(*transfer, failed(restricted.message()));
    return_handle(easy);
    return;
  }
  const Request& request = transfer->request;
  // The pointer curl keeps is into transfer->request, alive until the transfer ends.
  if (Status trusted = trust_extra_ca(easy, request.transport.extra_ca_file); !trusted) {
    complete(*transfer, failed(trusted.message()));
    return_handle(easy);
    return;
  }
  for (const auto& [name, value] : request.headers) {
    transfer->header_list =
        curl_slist_append(transfer->header_list, (name + ": " + value).c_str());
  }
  // curl adds "Expect: 100-continue" to larger POSTs, costing a round trip per request.
  transfer->header_list = curl_slist_append(transfer->header_list, "Expect:");
  // Nor its form default (application/x-www-form-urlencoded) to a body the request did not
  // label: a passed-on request (format graph) keeps the headers it came with.
  if (!has_header(request, "Content-Type")) {
    transfer->header_list = curl_slist_append(transfer->header_list, "Content-Type:");
  }

  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  set_method(easy, request);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->header_list);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  // Never from the environment: an HTTPS_PROXY meant for DingTalk must not capture the
  // local webhooks (Request::transport says when one is wanted).
  curl_easy_setopt(easy, CURLOPT_PROXY, request.transport.proxy.c_str());
  if (!request.transport.proxy_username.empty() || !request.transport.proxy_password.empty()) {
    curl_easy_setopt(easy, CURLOPT_PROXYUSERNAME, request.transport.proxy_username.c_str());
    curl_easy_setopt(easy, CURLOPT_PROXYPASSWORD, request.transport.proxy_password.c_str());
  }
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());
  if (request.want_response_headers) {
    transfer->max_header_bytes = options.max_response_headers;
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, collect_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, transfer.get());
  }

  if (curl_multi_add_handle(multi, easy) != CURLM_OK) {
    complete(*transfer, failed("curl_multi_add_handle failed"));
    return_handle(easy);
    return;
  }
  running.emplace(easy, std::move(transfer));
}

void HttpClient::Impl::finish(CURL* easy, CURLcode code) {
  auto it = running.find(easy);
  if (it == running.end()) return;
  std::unique_ptr<Transfer> transfer = std::move(it->second);
  running.erase(it);
  curl_multi_remove_handle(multi, easy);

  Response response;
  response.elapsed_ms = steady_ms() - transfer->started_ms;
  if (code == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    response.body = std::move(transfer->body);
    // The last response's header (-1), not one of an interim 1xx.
    curl_header* retry_after = nullptr;
    if (curl_easy_header(easy, "Retry-After", 0, CURLH_HEADER, -1, &retry_after) == CURLHE_OK)
      response.retry_after = retry_after->value;
    response.reason_phrase = std::move(transfer->reason_phrase);
    response.headers = std::move(transfer->headers);
  } else if (transfer->body_too_large) {
    response.failure = Failure::too_large;
    response.error = "response body larger than " + std::to_string(transfer->max_body) + " bytes";
  } else if (transfer->headers_too_large) {
    response.failure = Failure::too_large;
    response.error = "response headers larger than " + std::to_string(transfer->max_header_bytes) +
                     " bytes";
  } else {
    response.failure = failure_of(code);
    response.error = without_url_secrets(
        without_url_secrets(transfer->error[0] != '\0' ? transfer->error : curl_easy_strerror(code),
                            transfer->request.url),
        transfer->request.transport.proxy);
  }
  complete(*transfer, std::move(response));
  return_handle(easy);
}

void HttpClient::Impl::complete(Transfer& transfer, Response response) {
  done.push_back(Completion{transfer.id, std::move(response)});
}

void HttpClient::Impl::hand_on_completions() {
  if (done.empty()) return;
  std::vector<Completion> batch;
  batch.swap(done);
  // on_complete is the owner's code; a throw must not unwind through curl's loop.
  try {
    on_complete(std::move(batch));
  } catch (const std::exception& e) {
    log::error("deliver", "completion handler threw", {{"what", e.what()}});
  }
}

}  // namespace dsb::deliver
