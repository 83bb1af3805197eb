// A tiny HTTP/1.1 server for unit tests: 127.0.0.1, port 0, one thread per connection,
// keep-alive, canned answers. Records every request and counts accepted connections.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
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

class StubHttpServer {
 public:
  using Handler = std::function<StubAnswer(const StubRequest&)>;

  explicit StubHttpServer(Handler handler = [](const StubRequest&) { return StubAnswer{}; })
      : handler_(std::move(handler)) {
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

  ~StubHttpServer() {
    stopping_ = true;
    acceptor_.join();
    ::close(listen_fd_);
    std::lock_guard lock(mutex_);
    for (auto& t : workers_) t.join();
  }

  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int port() const { return port_; }
  int connections_accepted() const { return accepted_.load(); }
  std::vector<StubRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
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
  bool fill(int fd, std::string& buffer, size_t n) {
    char chunk[4096];
    while (buffer.size() < n) {
      pollfd pfd{fd, POLLIN, 0};
      if (stopping_) return false;
      if (::poll(&pfd, 1, 50) <= 0) continue;
      ssize_t got = ::read(fd, chunk, sizeof chunk);
      if (got <= 0) return false;
      buffer.append(chunk, static_cast<size_t>(got));
    }
    return true;
  }

  void serve(int fd) {
    std::string buffer;
    while (!stopping_) {
      size_t header_end;
      while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
        if (!fill(fd, buffer, buffer.size() + 1)) {
          ::close(fd);
          return;
        }
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
      if (!fill(fd, buffer, header_end + 4 + length)) {
        ::close(fd);
        return;
      }
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
      if (::write(fd, response.data(), response.size()) < 0) break;
    }
    ::close(fd);
  }

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::vector<std::thread> workers_;
  std::vector<StubRequest> requests_;
};

}  // namespace dsb::test
