// lws_create_vhost() only says "no": bind a throwaway socket the way lws will
// (SO_REUSEADDR) to learn why, so the operator reads "address in use" rather than a bare
// failure.
#pragma once

#include <string>

namespace dsb::httpd {

// "" when HOST:PORT can be bound now; else "address in use", "not an address of this
// host", "permission denied (...)" or the system's text.
// REQUIRES: `host` is a numeric address of the family `ipv6` says.
std::string bind_problem(const std::string& host, int port, bool ipv6);

}  // namespace dsb::httpd
