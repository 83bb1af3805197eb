// dsb-stubhook: the benchmark's webhook. One thread, epoll, HTTP/1.1 keep-alive (pipelining
// tolerated): every request is answered 200 {} at once. It counts requests and distinct
// Idempotency-Key values, so lost and duplicated deliveries show.
//
//   dsb-stubhook [--listen 127.0.0.1:0]
//
// stdout: "stubhook listening on HOST:PORT"; on SIGTERM/SIGINT the final stats as one JSON
// line. GET /__stats answers the same JSON at any time (it is not counted as a request).
// Stats: requests, keyed (requests with the header), distinct_keys, duplicates (requests
// whose key was seen before), duplicate_samples (up to 20 such keys), without_key,
// latency_samples.
//
// Delivery latency: dsb-loadgen puts "sentUs":<CLOCK_MONOTONIC µs> in every event's data,
// which the bridge POSTs unchanged; each request's latency is its arrival minus that (the
// clock is system-wide, so the two processes share it). GET /__latency?from=A&to=B answers
// {"count","p50_us","p90_us","p99_us","max_us","mean_us"} over samples [A, B) in arrival
// order (sample numbers as latency_samples counts them).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <ctime>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

constexpr size_t kMaxHead = 64 * 1024;
constexpr size_t kMaxBody = 16 << 20;

struct Conn {
  std::string in;
  std::string out;
};

struct Stats {
  long long requests = 0;
  long long keyed = 0;
  long long without_key = 0;
  long long duplicates = 0;
  std::unordered_set<std::string> keys;
  std::vector<std::string> duplicate_samples;
  std::vector<int64_t> latency_us;  // one per request with a "sentUs" stamp, in arrival order

  std::string latency_json(size_t from, size_t to) const {
    to = std::min(to, latency_us.size());
    from = std::min(from, to);
    std::vector<int64_t> v(latency_us.begin() + static_cast<long>(from),
                           latency_us.begin() + static_cast<long>(to));
    std::sort(v.begin(), v.end());
    auto pct = [&v](double q) -> int64_t {
      if (v.empty()) return 0;
      size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
      return v[std::min(i, v.size() - 1)];
    };
    long double sum = 0;
    for (int64_t x : v) sum += static_cast<long double>(x);
    const int64_t mean = v.empty() ? 0 : static_cast<int64_t>(sum / static_cast<long double>(v.size()));
    return "{\"count\":" + std::to_string(v.size()) + ",\"p50_us\":" + std::to_string(pct(0.50)) +
           ",\"p90_us\":" + std::to_string(pct(0.90)) + ",\"p99_us\":" + std::to_string(pct(0.99)) +
           ",\"max_us\":" + std::to_string(v.empty() ? 0 : v.back()) +
           ",\"mean_us\":" + std::to_string(mean) + "}";
  }

  std::string json() const {
    std::string j = "{\"requests\":" + std::to_string(requests) +
                    ",\"keyed\":" + std::to_string(keyed) +
                    ",\"distinct_keys\":" + std::to_string(keys.size()) +
                    ",\"duplicates\":" + std::to_string(duplicates) +
                    ",\"without_key\":" + std::to_string(without_key) +
                    ",\"latency_samples\":" + std::to_string(latency_us.size()) +
                    ",\"duplicate_samples\":[";
    for (size_t i = 0; i < duplicate_samples.size(); ++i) {
      if (i) j += ',';
      j += '"';
      for (char c : duplicate_samples[i])
        if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20) j += c;
      j += '"';
    }
    return j + "]}";
  }
};

bool iequals_prefix(std::string_view line, std::string_view name) {
  if (line.size() < name.size()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  return true;
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r')) v.remove_suffix(1);
  return v;
}

int64_t monotonic_us() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1'000;
}

// The value of `name=` in the request line's query, or `fallback`.
size_t query_number(std::string_view request_line, std::string_view name, size_t fallback) {
  size_t at = request_line.find(name);
  if (at == std::string_view::npos || request_line[at + name.size()] != '=') return fallback;
  return std::strtoull(std::string(request_line.substr(at + name.size() + 1, 20)).c_str(), nullptr, 10);
}

// "sentUs":N in the body (the loadgen's stamp), or -1.
int64_t sent_stamp(std::string_view body) {
  constexpr std::string_view kField = "\"sentUs\":";
  size_t at = body.find(kField);
  if (at == std::string_view::npos) return -1;
  return std::strtoll(std::string(body.substr(at + kField.size(), 20)).c_str(), nullptr, 10);
}

// Consumes complete requests from c.in and appends their answers to c.out. False: close.
bool serve(Conn& c, Stats& stats) {
  static const std::string kOk =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
  size_t pos = 0;
  while (true) {
    size_t head_end = c.in.find("\r\n\r\n", pos);
    if (head_end == std::string::npos) {
      if (c.in.size() - pos > kMaxHead) return false;
      break;
    }
    std::string_view head(c.in.data() + pos, head_end - pos);
    size_t body_len = 0;
    bool chunked = false, expect = false;
    std::string_view key;
    std::string_view request_line = head.substr(0, head.find("\r\n"));
    size_t line_start = request_line.size() + 2;
    while (line_start < head.size()) {
      size_t eol = head.find("\r\n", line_start);
      if (eol == std::string_view::npos) eol = head.size();
      std::string_view line = head.substr(line_start, eol - line_start);
      size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::string_view value = trim(line.substr(colon + 1));
        if (iequals_prefix(line, "content-length:")) {
          body_len = std::strtoul(std::string(value).c_str(), nullptr, 10);
        } else if (iequals_prefix(line, "idempotency-key:")) {
          key = value;
        } else if (iequals_prefix(line, "transfer-encoding:")) {
          chunked = true;
        } else if (iequals_prefix(line, "expect:")) {
          expect = true;
        }
      }
      line_start = eol + 2;
    }
    if (chunked || body_len > kMaxBody) return false;  // the bridge sends Content-Length
    const size_t total = head_end + 4 - pos + body_len;
    if (c.in.size() - pos < total) {
      if (expect && c.in.size() - pos == head_end + 4 - pos) c.out += "HTTP/1.1 100 Continue\r\n\r\n";
      break;
    }
    if (request_line.rfind("GET /__stats", 0) == 0 || request_line.rfind("GET /__latency", 0) == 0) {
      std::string body = request_line.rfind("GET /__stats", 0) == 0
                             ? stats.json()
                             : stats.latency_json(query_number(request_line, "from", 0),
                                                  query_number(request_line, "to", SIZE_MAX));
      c.out += "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n\r\n" + body;
    } else {
      ++stats.requests;
      const int64_t sent = sent_stamp(std::string_view(c.in).substr(head_end + 4, body_len));
      if (sent > 0) stats.latency_us.push_back(monotonic_us() - sent);
      if (key.empty()) {
        ++stats.without_key;
      } else {
        ++stats.keyed;
        if (!stats.keys.emplace(key).second) {
          ++stats.duplicates;
          if (stats.duplicate_samples.size() < 20) stats.duplicate_samples.emplace_back(key);
        }
      }
      c.out += kOk;
    }
    pos += total;
  }
  c.in.erase(0, pos);
  return true;
}

bool flush(int fd, Conn& c) {
  while (!c.out.empty()) {
    ssize_t n = ::send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    c.out.erase(0, static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
      listen = argv[++i];
    } else {
      std::fprintf(stderr, "usage: dsb-stubhook [--listen 127.0.0.1:0]\n");
      return 2;
    }
  }
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return 2;
  std::string host = listen.substr(0, colon);

  int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(listen.c_str() + colon + 1)));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
      ::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(lfd, 1024) != 0) {
    std::fprintf(stderr, "dsb-stubhook: cannot listen on %s: %s\n", listen.c_str(), std::strerror(errno));
    return 1;
  }
  socklen_t alen = sizeof addr;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &alen);

  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = &on_signal;  // no SA_RESTART: epoll_wait returns EINTR
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  int ep = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  std::printf("stubhook listening on %s:%d\n", host.c_str(), ntohs(addr.sin_port));
  std::fflush(stdout);

  Stats stats;
  std::unordered_map<int, Conn> conns;
  std::vector<epoll_event> events(256);
  char buf[64 * 1024];
  while (!g_stop) {
    int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 1000);
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      int fd = events[static_cast<size_t>(i)].data.fd;
      if (fd == lfd) {
        while (true) {
          int cfd = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (cfd < 0) break;
          setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event cev{};
          cev.events = EPOLLIN | EPOLLRDHUP;
          cev.data.fd = cfd;
          epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &cev);
          conns[cfd];
        }
        continue;
      }
      Conn& c = conns[fd];
      bool keep = true;
      const uint32_t what = events[static_cast<size_t>(i)].events;
      if (what & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        while (true) {
          ssize_t r = ::recv(fd, buf, sizeof buf, 0);
          if (r > 0) {
            c.in.append(buf, static_cast<size_t>(r));
            continue;
          }
          if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) keep = false;
          break;
        }
        if (!serve(c, stats)) keep = false;
      }
      if (keep) keep = flush(fd, c);
      if (keep) {
        epoll_event cev{};
        cev.events = EPOLLIN | EPOLLRDHUP | (c.out.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT));
        cev.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_MOD, fd, &cev);
      } else {
        epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
        ::close(fd);
        conns.erase(fd);
      }
    }
  }
  std::printf("%s\n", stats.json().c_str());
  std::fflush(stdout);
  return 0;
}
