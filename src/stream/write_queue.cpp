#include "stream/write_queue.hpp"

#include <cstring>

namespace dsb::stream {

void WriteQueue::push(std::string_view payload, Priority priority) {
  std::vector<unsigned char> buffer(headroom_ + payload.size());
  if (!payload.empty()) std::memcpy(buffer.data() + headroom_, payload.data(), payload.size());
  (priority == Priority::urgent ? urgent_ : normal_).push_back(std::move(buffer));
}

std::vector<unsigned char>& WriteQueue::front() {
  return urgent_.empty() ? normal_.front() : urgent_.front();
}

void WriteQueue::pop() {
  if (!urgent_.empty()) {
    urgent_.pop_front();
  } else if (!normal_.empty()) {
    normal_.pop_front();
  }
}

void WriteQueue::clear() {
  urgent_.clear();
  normal_.clear();
}

}  // namespace dsb::stream
