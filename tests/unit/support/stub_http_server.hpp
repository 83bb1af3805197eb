// A tiny HTTP/1.1 server for unit tests: 127.0.0.1, port 0, one thread per connection,
// keep-alive, canned answers. Records every request and counts accepted connections.
// With a TlsIdentity it speaks HTTPS (OpenSSL, session tickets as by default).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dsb::test {

struct StubRequest {
  std::string method, path, body;
  std::map<std::string, std::string> headers;  // names lower-cased
};

struct StubAnswer {
  int status = 200;
  std::string body = "{}";
  std::chrono::milliseconds delay{0};
  std::string extra_headers;  // whole lines, each ending in \r\n ("Retry-After: 5\r\n")
};

struct TlsIdentity {
  std::string cert_pem;
  std::string key_pem;
};

class StubHttpServer {
 public:
  using Handler = std::function<StubAnswer(const StubRequest&)>;

  explicit StubHttpServer(Handler handler = [](const StubRequest&) { return StubAnswer{}; })
      : handler_(std::move(handler)) {
    start();
  }

  // HTTPS with `identity`; throws if OpenSSL cannot use it.
  explicit StubHttpServer(const TlsIdentity& identity,
                          Handler handler = [](const StubRequest&) { return StubAnswer{}; })
      : handler_(std::move(handler)), tls_(make_tls_context(identity)) {
    start();
  }

  ~StubHttpServer() {
    stopping_ = true;
    acceptor_.join();
    ::close(listen_fd_);
    std::lock_guard lock(mutex_);
    for (auto& t : workers_) t.join();
  }

  std::string url(const std::string& path = "/hook") const {
    return (tls_ ? "https" : "http") + std::string("://127.0.0.1:") + std::to_string(port_) + path;
  }
  int port() const { return port_; }
  int connections_accepted() const { return accepted_.load(); }
  // TLS handshakes that succeeded (a client that rejects the certificate fails its own).
  int tls_handshakes() const { return tls_handshakes_.load(); }
  std::vector<StubRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void start() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listen_fd_, 64);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  using TlsContext = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

  static TlsContext make_tls_context(const TlsIdentity& identity) {
    TlsContext ctx(SSL_CTX_new(TLS_server_method()), &SSL_CTX_free);
    auto pem = [](const std::string& text) {
      return std::unique_ptr<BIO, decltype(&BIO_free)>(
          BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), &BIO_free);
    };
    auto cert_bio = pem(identity.cert_pem);
    auto key_bio = pem(identity.key_pem);
    std::unique_ptr<X509, decltype(&X509_free)> cert(
        PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr), &X509_free);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
    if (!ctx || !cert || !key || SSL_CTX_use_certificate(ctx.get(), cert.get()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1) {
      throw std::runtime_error("stub server: unusable TLS identity");
    }
    return ctx;
  }

  // One accepted connection, plain or TLS.
  struct Connection {
    int fd = -1;
    SSL* ssl = nullptr;
    ~Connection() {
      if (ssl) SSL_free(ssl);
      ::close(fd);
    }
    bool has_buffered() const { return ssl != nullptr && SSL_pending(ssl) > 0; }
    ssize_t read(char* data, size_t size) {
      if (!ssl) return ::read(fd, data, size);
      return SSL_read(ssl, data, static_cast<int>(size));
    }
    bool write(const std::string& data) {
      if (!ssl) return ::write(fd, data.data(), data.size()) >= 0;
      return SSL_write(ssl, data.data(), static_cast<int>(data.size())) ==
             static_cast<int>(data.size());
    }
  };

  void accept_loop() {
    while (!stopping_) {
      pollfd pfd{listen_fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 50) <= 0) continue;
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      accepted_++;
      std::lock_guard lock(mutex_);
      workers_.emplace_back([this, fd] { serve(fd); });
    }
  }

  // Reads until `n` bytes are buffered or the peer/stop ends it; bounded by stopping_.
  bool fill(Connection& conn, std::string& buffer, size_t n) {
    char chunk[4096];
    while (buffer.size() < n) {
      pollfd pfd{conn.fd, POLLIN, 0};
      if (stopping_) return false;
      if (!conn.has_buffered() && ::poll(&pfd, 1, 50) <= 0) continue;
      ssize_t got = conn.read(chunk, sizeof chunk);
      if (got <= 0) return false;
      buffer.append(chunk, static_cast<size_t>(got));
    }
    return true;
  }

  void serve(int fd) {
    Connection conn;
    conn.fd = fd;
    if (tls_) {
      // A client that never finishes its handshake must not hold the destructor forever.
      timeval bound{5, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
      conn.ssl = SSL_new(tls_.get());
      if (conn.ssl == nullptr || SSL_set_fd(conn.ssl, fd) != 1 || SSL_accept(conn.ssl) != 1) {
        return;  // a client that refused our certificate ends here
      }
      ++tls_handshakes_;
    }
    std::string buffer;
    while (!stopping_) {
      size_t header_end;
      while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
        if (!fill(conn, buffer, buffer.size() + 1)) return;
      }
      StubRequest request;
      std::string head = buffer.substr(0, header_end);
      size_t line_end = head.find("\r\n");
      std::string request_line = head.substr(0, line_end);
      request.method = request_line.substr(0, request_line.find(' '));
      size_t path_start = request_line.find(' ') + 1;
      request.path = request_line.substr(path_start, request_line.rfind(' ') - path_start);
      size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
      while (pos < head.size()) {
        size_t end = head.find("\r\n", pos);
        if (end == std::string::npos) end = head.size();
        std::string line = head.substr(pos, end - pos);
        size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string name = line.substr(0, colon);
          for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          size_t value_start = line.find_first_not_of(' ', colon + 1);
          request.headers[name] = value_start == std::string::npos ? "" : line.substr(value_start);
        }
        pos = end + 2;
      }
      size_t length = request.headers.count("content-length")
                          ? std::stoul(request.headers["content-length"]) : 0;
      if (!fill(conn, buffer, header_end + 4 + length)) return;
      request.body = buffer.substr(header_end + 4, length);
      buffer.erase(0, header_end + 4 + length);
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(request);
      }
      StubAnswer answer = handler_(request);
      if (answer.delay.count() > 0) std::this_thread::sleep_for(answer.delay);
      std::string response = "HTTP/1.1 " + std::to_string(answer.status) + " X\r\n" +
                             answer.extra_headers +
                             "Content-Type: application/json\r\nContent-Length: " +
                             std::to_string(answer.body.size()) + "\r\n\r\n" +
                             (request.method == "HEAD" ? "" : answer.body);  // HEAD: no body
      if (!conn.write(response)) break;
    }
  }

  Handler handler_;
  TlsContext tls_{nullptr, &SSL_CTX_free};
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> tls_handshakes_{0};
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::vector<std::thread> workers_;
  std::vector<StubRequest> requests_;
};

}  // namespace dsb::test
