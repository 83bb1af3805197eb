// How both store backends keep a frame's headers and type as text: the headers as one JSON
// object of strings (in order), the type by its wire name.
#pragma once

#include <string>
#include <string_view>

#include "stream/frame.hpp"

namespace dsb::store {

std::string frame_headers_json(const stream::Frame& frame);
// Adds the headers of `json` to `frame`; a damaged text adds none.
void parse_frame_headers(std::string_view json, stream::Frame& frame);
// EVENT, CALLBACK or SYSTEM; anything else reads as EVENT.
stream::FrameType parse_frame_type(std::string_view name);

}  // namespace dsb::store
