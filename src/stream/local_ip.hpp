// The open call's `localIp`: for DingTalk's own diagnostics only, so best effort.
#pragma once

#include <string>

namespace dsb::stream {

// The host's up, non-loopback IPv4 addresses, comma-separated, in interface order. When
// there is none (containers with only lo, odd sandboxes), the local address the kernel would
// pick for a UDP "connect" to a public address (no packet is sent). "" if both fail.
std::string local_ipv4_addresses();

}  // namespace dsb::stream
