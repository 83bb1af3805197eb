#include "stream/write_queue.hpp"

#include <cstring>

namespace dsb::stream {

void WriteQueue::push(std::string_view payload, Priority priority, AnsweredFrame answers) {
  std::vector<unsigned char> buffer(headroom_ + payload.size());
  if (!payload.empty()) std::memcpy(buffer.data() + headroom_, payload.data(), payload.size());
  (priority == Priority::urgent ? urgent_ : normal_).push_back(Message{std::move(buffer), answers});
}

std::vector<unsigned char>& WriteQueue::front() {
  return urgent_.empty() ? normal_.front().bytes : urgent_.front().bytes;
}

AnsweredFrame WriteQueue::front_answers() const { return front_message().answers; }

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
