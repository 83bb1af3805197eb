// `format: raw` (product.md section 5): the frame's data as the body, its metadata as
// X-DingTalk-* headers, an Idempotency-Key, and optionally an X-Bridge-Signature.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "deliver/request.hpp"
#include "stream/frame.hpp"

namespace dsb::deliver {

// REQUIRES: `url` is one of route.urls. `idempotency_key` is the frame's eventId, msgId or
// messageId, unprefixed. `now_ms` is wall time, used for X-Bridge-Timestamp.
Request build_raw_request(const config::Route& route, const std::string& url,
                          const stream::Frame& frame, std::string_view idempotency_key,
                          int64_t now_ms);

}  // namespace dsb::deliver
