// Upstream frames (stream-protocol.md section 4): every text frame a client sends is an ACK
// {code, headers{messageId, ...}, message, data}. Parsing is strict so tests see what a real
// gateway would not accept.
#pragma once

#include "common/status.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dsb::emulator {

struct Ack {
  std::string message_id;
  int64_t code = 0;
  std::optional<std::string> message;
  std::optional<std::string> data;  // the data string, verbatim
  std::string status;  // data's "status" member (EVENT ACKs: SUCCESS / LATER), "" if none
};

// Fails with a short reason: "not JSON", "not a JSON object", "headers.messageId missing",
// "code missing or not an integer", "message is not a string", "data is not a string".
Result<Ack> parse_ack(std::string_view text);

// Best effort messageId of a frame that failed parse_ack, "" when none can be read.
std::string salvage_message_id(std::string_view text);

}  // namespace dsb::emulator
