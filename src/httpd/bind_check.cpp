#include "httpd/bind_check.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dsb::httpd {

std::string bind_problem(const std::string& host, int port, bool ipv6) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (ipv6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET6, host.c_str(), &sin6->sin6_addr);
    length = sizeof *sin6;
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, host.c_str(), &sin->sin_addr);
    length = sizeof *sin;
  }
  int fd = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("cannot create a socket: ") + std::strerror(errno);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  std::string problem;
  if (bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    switch (errno) {
      case EADDRINUSE: problem = "address in use"; break;
      case EADDRNOTAVAIL: problem = "not an address of this host"; break;
      case EACCES: problem = "permission denied (a port below 1024 needs privileges)"; break;
      default: problem = std::strerror(errno);
    }
  }
  close(fd);
  return problem;
}

}  // namespace dsb::httpd
