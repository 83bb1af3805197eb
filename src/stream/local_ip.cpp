#include "stream/local_ip.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace dsb::stream {
namespace {

std::string ipv4_text(const sockaddr_in& addr) {
  char buf[INET_ADDRSTRLEN] = {};
  if (inet_ntop(AF_INET, &addr.sin_addr, buf, sizeof buf) == nullptr) return {};
  return buf;
}

std::string udp_route_address() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {};
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(53);
  inet_pton(AF_INET, "8.8.8.8", &remote.sin_addr);  // connect() on UDP sends nothing
  std::string out;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&remote), sizeof remote) == 0) {
    sockaddr_in local{};
    socklen_t len = sizeof local;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0 &&
        local.sin_addr.s_addr != htonl(INADDR_ANY)) {
      out = ipv4_text(local);
    }
  }
  ::close(fd);
  return out;
}

}  // namespace

std::string local_ipv4_addresses() {
  std::vector<std::string> found;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) == 0) {
    for (ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
      if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET) continue;
      if ((it->ifa_flags & IFF_UP) == 0 || (it->ifa_flags & IFF_LOOPBACK) != 0) continue;
      std::string text = ipv4_text(*reinterpret_cast<const sockaddr_in*>(it->ifa_addr));
      if (!text.empty() && std::find(found.begin(), found.end(), text) == found.end()) {
        found.push_back(std::move(text));
      }
    }
    ::freeifaddrs(list);
  }
  if (found.empty()) return udp_route_address();
  std::string out;
  for (const auto& ip : found) {
    if (!out.empty()) out += ',';
    out += ip;
  }
  return out;
}

}  // namespace dsb::stream
