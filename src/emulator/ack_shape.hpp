// The shape every official SDK gives an ACK (stream-protocol.md section 4.1), checked on
// every upstream frame so a test run notices a bridge ACK DingTalk might not take, even
// when the emulator itself could still read it (parse_ack is deliberately lenient):
//
//   {"code": <integer>,
//    "headers": {"contentType": "application/json", "messageId": "<non-empty>", ...},
//    "message": "<string>",
//    "data": "<JSON text>"}        required when code is 200, optional otherwise
//
// Extra headers are tolerated (Java adds `time`, Node echoes the request's); extra members
// at the top level are not, as no SDK writes any.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dsb::emulator {

// Every rule `text` breaks, in the order above; empty when it is a well-formed ACK.
std::vector<std::string> ack_shape_violations(std::string_view text);

}  // namespace dsb::emulator
