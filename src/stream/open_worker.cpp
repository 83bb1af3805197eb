#include "stream/open_worker.hpp"

#include <curl/curl.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "common/curl_protocols.hpp"
#include "common/extra_ca.hpp"
#include "common/log.hpp"
#include "common/thread_name.hpp"
#include "stream/endpoint.hpp"

namespace dsb::stream {
namespace {

constexpr size_t kMaxBody = 64 * 1024;

struct Transfer {
  std::string body;
  const std::atomic<bool>* stopping = nullptr;
};

// C callbacks: no exception may leave them.
extern "C" size_t on_body(char* data, size_t size, size_t count, void* user) noexcept {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  try {
    if (t->body.size() < kMaxBody) t->body.append(data, std::min(n, kMaxBody - t->body.size()));
  } catch (...) {
    return 0;  // aborts the transfer
  }
  return n;
}

extern "C" int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) noexcept {
  return static_cast<Transfer*>(user)->stopping->load() ? 1 : 0;
}

// The first address getaddrinfo() gives for `host`, as text; "" on failure. Runs on the
// worker thread, where blocking is fine.
std::string resolve_host(const std::string& host, std::string& error) {
  in6_addr probe{};
  if (inet_pton(AF_INET, host.c_str(), &probe) == 1 || inet_pton(AF_INET6, host.c_str(), &probe) == 1) {
    return host;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &result);
  if (rc != 0 || result == nullptr) {
    error = "cannot resolve endpoint host " + host + ": " + gai_strerror(rc);
    return {};
  }
  char text[INET6_ADDRSTRLEN] = {};
  const void* addr = result->ai_family == AF_INET6
                         ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(result->ai_addr)->sin6_addr)
                         : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(result->ai_addr)->sin_addr);
  inet_ntop(result->ai_family, addr, text, sizeof text);
  freeaddrinfo(result);
  return text;
}

void redact(std::string& text, const std::string& secret) {
  if (secret.empty()) return;
  for (size_t pos; (pos = text.find(secret)) != std::string::npos;) text.replace(pos, secret.size(), "***");
}

}  // namespace

OpenCallWorker::OpenCallWorker(Settings settings, std::function<void()> wake)
    : settings_(std::move(settings)), wake_(std::move(wake)) {}

OpenCallWorker::~OpenCallWorker() { stop(); }

void OpenCallWorker::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    name_this_thread("dsb-open-call");
    loop();
  });
}

void OpenCallWorker::submit(Job job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

std::vector<OpenCallWorker::Done> OpenCallWorker::drain() {
  std::lock_guard lock(mutex_);
  std::vector<Done> out;
  out.swap(done_);
  return out;
}

void OpenCallWorker::cancel() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    jobs_.clear();
    done_.clear();
  }
  cv_.notify_all();
}

void OpenCallWorker::stop() {
  cancel();
  if (thread_.joinable()) thread_.join();
}

void OpenCallWorker::loop() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stopping_.load() || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    OpenResponse response = perform(job);
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      done_.push_back(Done{job.token, job.slot, std::move(response)});
    }
    if (wake_) wake_();
  }
}

OpenResponse OpenCallWorker::perform(const Job& job) {
  OpenResponse failed;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    failed.error = "curl_easy_init failed";
    return failed;
  }
  if (Status restricted = restrict_to_http(curl); !restricted) {
    curl_easy_cleanup(curl);
    failed.error = restricted.message();
    return failed;
  }
  if (Status trusted = trust_extra_ca(curl, settings_.ca_file); !trusted) {
    curl_easy_cleanup(curl);
    failed.error = trusted.message();
    return failed;
  }
  Transfer transfer;
  transfer.stopping = &stopping_;
  char errbuf[CURL_ERROR_SIZE] = {};

  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  // Without it the gateway answers in XML (stream-protocol.md section 1.1).
  headers = curl_slist_append(headers, "Accept: application/json");
  const std::string ua = user_agent();

  curl_easy_setopt(curl, CURLOPT_URL, job.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, job.body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(job.body.size()));
  curl_easy_setopt(curl, CURLOPT_USERAGENT, ua.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(settings_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.total_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  std::string proxy_url;
  if (settings_.proxy) {
    proxy_url = settings_.proxy->curl_url();
    curl_easy_setopt(curl, CURLOPT_PROXY, proxy_url.c_str());
    // Tunnel (CONNECT) for http:// api_base too, so the open call and the websocket reach
    // the network the same way through the proxy (curl would otherwise forward plain HTTP
    // as an absolute-URI request).
    curl_easy_setopt(curl, CURLOPT_HTTPPROXYTUNNEL, 1L);
    if (!settings_.proxy->username.empty() || !settings_.proxy->password.empty()) {
      curl_easy_setopt(curl, CURLOPT_PROXYUSERNAME, settings_.proxy->username.c_str());
      curl_easy_setopt(curl, CURLOPT_PROXYPASSWORD, settings_.proxy->password.c_str());
    }
  } else {
    // "" disables curl's own reading of http_proxy/HTTPS_PROXY: the proxy decision is
    // made once, in resolve_proxy(), for both the open call and the websocket.
    curl_easy_setopt(curl, CURLOPT_PROXY, "");
  }

  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);

  if (rc != CURLE_OK) {
    failed.error = std::string(curl_easy_strerror(rc));
    if (errbuf[0] != '\0') failed.error += std::string(": ") + errbuf;
    redact(failed.error, job.client_secret);
    return failed;
  }
  OpenResponse response = parse_open_response(status, transfer.body);
  if (response.outcome == OpenOutcome::ok && !settings_.proxy) {
    if (auto target = ws_target(response.endpoint, "")) {
      std::string error;
      response.resolved_address = resolve_host(target->host, error);
      if (response.resolved_address.empty()) {
        response.outcome = OpenOutcome::failed;
        response.error = error;
        response.ticket.clear();
      }
    }
  }
  redact(response.error, job.client_secret);
  return response;
}

}  // namespace dsb::stream
