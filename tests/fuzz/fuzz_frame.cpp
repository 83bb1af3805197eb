// parse_frame on arbitrary bytes, and the Reassembler on arbitrary fragment splits.
//
// Input layout: the whole input is first parsed as one frame text. It is then replayed
// through a Reassembler as fragments: byte 0 picks the size cap, then each fragment is
// [flags][length][length bytes] (flags bit 0 first, bit 1 final, bit 2 binary), until the
// input runs out; every completed message is parsed too.
#include <rapidjson/document.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "stream/frame.hpp"
#include "stream/reassembler.hpp"

using namespace dsb::stream;

namespace {

// An ACK must be a JSON object carrying the messageId it was made for and, when it has
// data, a string that is itself JSON when `data_is_json`.
void check_ack(const Ack& ack, bool data_is_json) {
  const std::string text = serialize_ack(ack);
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  FUZZ_CHECK(!doc.HasParseError() && doc.IsObject());
  const auto& headers = doc["headers"];
  FUZZ_CHECK(headers.IsObject() && headers.HasMember("messageId") && headers["messageId"].IsString());
  FUZZ_CHECK(std::string_view(headers["messageId"].GetString(), headers["messageId"].GetStringLength()) ==
             ack.message_id);
  FUZZ_CHECK(doc.HasMember("data") == ack.data.has_value());
  if (ack.data && data_is_json) {
    rapidjson::Document data;
    data.Parse(doc["data"].GetString(), doc["data"].GetStringLength());
    FUZZ_CHECK(!data.HasParseError());
  }
}

void check_parse(std::string_view text) {
  ParsedFrame parsed = parse_frame(text);
  FUZZ_CHECK(parsed.status.is_ok() == parsed.frame.has_value());
  if (!parsed.status.is_ok()) {
    FUZZ_CHECK(!parsed.status.message().empty());
    if (!parsed.message_id.empty()) check_ack(ack_error(parsed.message_id, 400, parsed.status.message()), false);
    return;
  }
  const Frame& frame = *parsed.frame;
  // The contract of parse_frame: an accepted frame is ACKable and routable.
  FUZZ_CHECK(!parsed.message_id.empty());
  FUZZ_CHECK(frame.message_id() == parsed.message_id);
  FUZZ_CHECK(!frame.topic().empty());
  FUZZ_CHECK(!frame_type_name(frame.type).empty());
  if (frame.type == FrameType::system) {
    check_ack(ack_system(frame), false);
    return;
  }
  // EVENT/CALLBACK data was checked to be JSON, so the callback ACK's data stays JSON.
  check_ack(ack_event(frame.message_id(), true), true);
  check_ack(ack_event(frame.message_id(), false, frame.data), true);
  check_ack(ack_callback(frame.message_id(), frame.data), true);
  check_ack(ack_error(frame.message_id(), 500, frame.data), false);
}

void check_reassembly(const uint8_t* data, size_t size) {
  if (size == 0) return;
  static constexpr size_t kCaps[] = {0, 1, 16, 64, 256, 4096};
  const size_t cap = kCaps[data[0] % (sizeof kCaps / sizeof kCaps[0])];
  Reassembler reassembler(cap);

  // A model of the contract: what a message holds since its first fragment.
  std::string message;
  size_t total = 0;
  size_t pos = 1;
  while (pos + 2 <= size) {
    const uint8_t flags = data[pos];
    const size_t length = std::min<size_t>(data[pos + 1], size - pos - 2);
    const std::string_view chunk(reinterpret_cast<const char*>(data + pos + 2), length);
    pos += 2 + length;
    const bool first = flags & 1;
    const bool final = flags & 2;
    const bool binary = flags & 4;
    if (first) {
      message.clear();
      total = 0;
    }
    message.append(chunk);
    total += chunk.size();

    const Reassembler::Outcome outcome = reassembler.feed(chunk, first, final, binary);
    FUZZ_CHECK((outcome == Reassembler::Outcome::need_more) == !final);
    switch (outcome) {
      case Reassembler::Outcome::need_more:
        break;
      case Reassembler::Outcome::complete: {
        const std::string text = reassembler.take();
        FUZZ_CHECK(text.size() <= cap);
        FUZZ_CHECK(text == message);
        check_parse(text);
        message.clear();
        total = 0;
        break;
      }
      case Reassembler::Outcome::oversized:
        FUZZ_CHECK(reassembler.total_bytes() == total && total > cap);
        FUZZ_CHECK(reassembler.message_id().size() <= 256);
        break;
      case Reassembler::Outcome::binary:
        break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return dsb::fuzz::guarded([&] {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check_parse(text);
    const std::string id = find_message_id(text);
    FUZZ_CHECK(id.size() <= 256 && id.find('"') == std::string::npos);
    check_reassembly(data, size);
  });
}
