#include "stream/reassembler.hpp"

namespace dsb::stream {

Reassembler::Outcome Reassembler::feed(std::string_view chunk, bool first, bool final,
                                       bool binary) {
  if (first) {
    buffer_.clear();
    total_ = 0;
    discarding_ = false;
    binary_ = binary;
    message_id_.clear();
  }
  total_ += chunk.size();
  if (binary_) {
    if (!final) return Outcome::need_more;
    buffer_.clear();
    return Outcome::binary;
  }
  if (!discarding_) {
    if (buffer_.size() + chunk.size() > max_bytes_) {
      // Keep only what we already hold (<= max) to look for the messageId, then stop.
      discarding_ = true;
    } else {
      buffer_.append(chunk);
    }
  }
  if (!final) return Outcome::need_more;
  if (discarding_) {
    message_id_ = find_message_id(buffer_);
    std::string().swap(buffer_);  // give the memory back: this one was big
    return Outcome::oversized;
  }
  return Outcome::complete;
}

std::string Reassembler::take() {
  std::string out = std::move(buffer_);
  buffer_.clear();
  total_ = 0;
  return out;
}

std::string find_message_id(std::string_view text) {
  static constexpr std::string_view kKey = "\"messageId\"";
  size_t pos = 0;
  while ((pos = text.find(kKey, pos)) != std::string_view::npos) {
    size_t i = pos + kKey.size();
    pos = i;
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
    if (i >= text.size() || text[i] != ':') continue;
    ++i;
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
    if (i >= text.size() || text[i] != '"') continue;
    ++i;
    const size_t end = text.find('"', i);
    if (end == std::string_view::npos) return {};
    std::string_view id = text.substr(i, end - i);
    // Escapes would need a JSON parser to undo; such ids are not ACKable from here.
    if (id.empty() || id.find('\\') != std::string_view::npos || id.size() > 256) return {};
    return std::string(id);
  }
  return {};
}

}  // namespace dsb::stream
