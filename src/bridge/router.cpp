#include "bridge/router.hpp"

namespace dsb::bridge {

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative matcher with one backtrack point: the most recent `*`. Linear in practice and
  // never recursive, so a hostile pattern cannot blow the stack.
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

const config::Route* Router::match(const stream::Frame& frame) const {
  switch (frame.type) {
    case stream::FrameType::system:
      return nullptr;
    case stream::FrameType::callback:
      for (const config::Route& route : routes_) {
        if (route.is_callback() && route.topic == frame.topic()) return &route;
      }
      return nullptr;
    case stream::FrameType::event: {
      const std::string_view event_type = frame.header("eventType");
      for (const config::Route& route : routes_) {
        if (!route.is_callback() && glob_match(route.event, event_type)) return &route;
      }
      return nullptr;
    }
  }
  return nullptr;
}

}  // namespace dsb::bridge
