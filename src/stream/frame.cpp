#include "stream/frame.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/json.hpp"
#include "stream/reassembler.hpp"

namespace dsb::stream {

std::string_view Frame::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

std::string_view frame_type_name(FrameType type) {
  switch (type) {
    case FrameType::system: return "SYSTEM";
    case FrameType::event: return "EVENT";
    case FrameType::callback: return "CALLBACK";
  }
  return "EVENT";
}

namespace {

ParsedFrame fail(std::string message, std::string message_id = {}) {
  ParsedFrame out;
  out.status = Status::error(std::move(message));
  out.message_id = std::move(message_id);
  return out;
}

}  // namespace

ParsedFrame parse_frame(std::string_view text) {
  if (json::nests_deeper_than(text)) {
    // Not parsed (it would overflow the stack); the messageId is read the way an
    // oversized frame's is, so the frame can still be ACKed 400.
    return fail("frame nests deeper than " + std::to_string(json::kMaxDepth) + " levels",
                find_message_id(text));
  }
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError()) {
    return fail(std::string("invalid JSON at offset ") + std::to_string(doc.GetErrorOffset()) +
                ": " + rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) return fail("frame is not a JSON object");

  // Read the messageId first so every later failure can still be ACKed.
  std::string message_id;
  auto headers_it = doc.FindMember("headers");
  if (headers_it != doc.MemberEnd() && headers_it->value.IsObject()) {
    if (auto id = json::string_member(headers_it->value, "messageId")) message_id = *id;
  }

  Frame frame;
  auto type = json::string_member(doc, "type");
  if (!type) return fail("missing or non-string \"type\"", message_id);
  if (*type == "SYSTEM") {
    frame.type = FrameType::system;
  } else if (*type == "EVENT") {
    frame.type = FrameType::event;
  } else if (*type == "CALLBACK") {
    frame.type = FrameType::callback;
  } else {
    return fail("unknown frame type \"" + std::string(*type) + "\"", message_id);
  }

  if (headers_it == doc.MemberEnd()) return fail("missing \"headers\"", message_id);
  if (!headers_it->value.IsObject()) return fail("\"headers\" is not an object", message_id);
  for (const auto& member : headers_it->value.GetObject()) {
    std::string name(member.name.GetString(), member.name.GetStringLength());
    if (!member.value.IsString()) {
      return fail("header \"" + name + "\" is not a string", message_id);
    }
    frame.headers.emplace_back(std::move(name),
                               std::string(member.value.GetString(), member.value.GetStringLength()));
  }
  if (message_id.empty()) return fail("missing or empty headers.messageId");
  if (frame.topic().empty()) return fail("missing or empty headers.topic", message_id);

  if (auto version = json::string_member(doc, "specVersion")) frame.spec_version = *version;

  auto data_it = doc.FindMember("data");
  if (data_it == doc.MemberEnd()) {
    // SYSTEM frames in DingTalk's own examples may omit data; business frames may not.
    if (frame.type != FrameType::system) return fail("missing \"data\"", message_id);
  } else if (!data_it->value.IsString()) {
    return fail("\"data\" is not a string", message_id);
  } else {
    frame.data.assign(data_it->value.GetString(), data_it->value.GetStringLength());
  }
  // Checked for SYSTEM frames too: the stream parses a disconnect's data, and every later
  // stage parses EVENT/CALLBACK data again, all relying on this bound.
  if (json::nests_deeper_than(frame.data)) {
    return fail("\"data\" nests deeper than " + std::to_string(json::kMaxDepth) + " levels",
                message_id);
  }

  if (frame.type != FrameType::system) {
    rapidjson::Document payload;
    payload.Parse(frame.data.data(), frame.data.size());
    if (payload.HasParseError()) {
      return fail(std::string("\"data\" is not valid JSON: ") +
                      rapidjson::GetParseError_En(payload.GetParseError()),
                  message_id);
    }
  }

  ParsedFrame out;
  out.message_id = std::move(message_id);
  out.frame = std::move(frame);
  return out;
}

std::string serialize_ack(const Ack& ack) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("code");
  w.Int(ack.code);
  w.Key("headers");
  w.StartObject();
  w.Key("contentType");
  w.String("application/json");
  w.Key("messageId");
  w.String(ack.message_id.data(), static_cast<rapidjson::SizeType>(ack.message_id.size()));
  w.EndObject();
  w.Key("message");
  w.String(ack.message.data(), static_cast<rapidjson::SizeType>(ack.message.size()));
  if (ack.data) {
    w.Key("data");
    w.String(ack.data->data(), static_cast<rapidjson::SizeType>(ack.data->size()));
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Ack ack_system(const Frame& frame) {
  rapidjson::Document data;
  const bool is_json = json::parse(data, frame.data);
  return Ack{std::string(frame.message_id()), 200, "OK", is_json ? frame.data : "{}"};
}

Ack ack_event(std::string_view message_id, bool success, std::string_view message) {
  std::string data = "{\"status\":";
  data += success ? "\"SUCCESS\"" : "\"LATER\"";
  data += ",\"message\":";
  data += json::quote(message.empty() ? (success ? "success" : "later") : message);
  data += '}';
  return Ack{std::string(message_id), 200, "OK", std::move(data)};
}

std::string_view ack_status(const Ack& ack) {
  if (ack.code != 200) return "error";
  // ack_event() writes the status first: no JSON parse per ACK.
  constexpr std::string_view kLater = "{\"status\":\"LATER\"";
  const bool later = ack.data && std::string_view(*ack.data).substr(0, kLater.size()) == kLater;
  return later ? "later" : "ok";
}

Ack ack_callback(std::string_view message_id, std::string_view response_json) {
  std::string data = "{\"response\":";
  data += response_json.empty() ? "null" : response_json;
  data += '}';
  return Ack{std::string(message_id), 200, "OK", std::move(data)};
}

Ack ack_error(std::string_view message_id, int code, std::string_view message) {
  return Ack{std::string(message_id), code, std::string(message), std::nullopt};
}

}  // namespace dsb::stream
