// Downstream frames (server -> client) and upstream ACKs (client -> server) of the Stream
// protocol (reference/stream-protocol.md sections 2 and 4). Pure data and pure functions:
// no sockets here, so every rule is unit-testable.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.hpp"

namespace dsb::stream {

enum class FrameType { system, event, callback };

struct Frame {
  FrameType type = FrameType::event;
  std::string spec_version;
  // Every header, in wire order; values are strings on the wire (unknown ones kept).
  std::vector<std::pair<std::string, std::string>> headers;
  // The payload exactly as sent: itself a JSON text (double encoding), not parsed here.
  std::string data;

  // "" when absent.
  std::string_view header(std::string_view name) const;
  std::string_view message_id() const { return header("messageId"); }
  std::string_view topic() const { return header("topic"); }
};

std::string_view frame_type_name(FrameType type);

// The outcome of parsing one websocket text message. On failure `message_id` carries the
// messageId when it could be read, so the caller can still ACK 400.
struct ParsedFrame {
  Status status = Status::ok();
  std::optional<Frame> frame;
  std::string message_id;
};

// Parses the envelope. Requires: a JSON object; `type` one of SYSTEM/EVENT/CALLBACK;
// `headers` an object of strings with a non-empty `messageId` (and `topic`); `data` a
// string. For EVENT and CALLBACK `data` must itself be valid JSON. Neither the envelope nor
// `data` may nest deeper than json::kMaxDepth (later stages parse `data` again, safely).
ParsedFrame parse_frame(std::string_view text);

struct Ack {
  std::string message_id;
  int code = 200;
  std::string message = "OK";
  // The response payload, already JSON text; sent as a JSON string (double encoding).
  // nullopt omits `data`, as error ACKs do.
  std::optional<std::string> data;
};

// {"code":..,"headers":{"contentType":"application/json","messageId":..},"message":..,"data":..}
std::string serialize_ack(const Ack& ack);

// Standard ACKs. Every code-200 ACK carries `data`, a JSON text, as every official SDK
// writes it (stream-protocol.md section 4.1); error ACKs omit it.
//
// SYSTEM ping and disconnect: 200 with the frame's data copied verbatim (a ping's carries
// the `opaque` the gateway checks), or "{}" when the frame has none that is JSON.
Ack ack_system(const Frame& frame);
Ack ack_event(std::string_view message_id, bool success, std::string_view message = {});
Ack ack_callback(std::string_view message_id, std::string_view response_json);  // {"response":..}
Ack ack_error(std::string_view message_id, int code, std::string_view message);

// The `status` label of dsb_acks_total: "later" for an EVENT ACKed LATER (DingTalk
// redelivers it), "ok" for any other code-200 ACK, "error" for the rest.
std::string_view ack_status(const Ack& ack);

}  // namespace dsb::stream
