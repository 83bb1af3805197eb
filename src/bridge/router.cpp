#include "bridge/router.hpp"

#include <algorithm>

#include "common/glob.hpp"

namespace dsb::bridge {
namespace {

// Every condition's field is present and matches: data that is not a JSON object has
// no fields, so it matches no route with `match`.
bool data_matches(const std::vector<config::FieldMatch>& conditions, FrameData& data) {
  for (const config::FieldMatch& condition : conditions) {
    std::optional<std::string> value = data.field(condition.field);
    if (!value || !glob_match(condition.glob, *value)) return false;
  }
  return true;
}

bool triggered_by(const config::Route& route, const stream::Frame& frame) {
  switch (frame.type) {
    case stream::FrameType::callback:
      return route.is_callback() && route.topic == frame.topic();
    case stream::FrameType::event:
      return !route.is_callback() && glob_match(route.event, frame.header("eventType"));
    case stream::FrameType::system:
      return false;
  }
  return false;
}

}  // namespace

const config::Route* Router::match(const stream::Frame& frame, FrameData& data) const {
  if (frame.type == stream::FrameType::system) return nullptr;
  for (const config::Route& route : routes_) {
    if (triggered_by(route, frame) && data_matches(route.match, data)) return &route;
  }
  return nullptr;
}

const config::Route* Router::match(const stream::Frame& frame) const {
  FrameData data(frame.data);
  return match(frame, data);
}

bool Router::has_callback_topic(std::string_view topic) const {
  return std::any_of(routes_.begin(), routes_.end(), [&](const config::Route& route) {
    return route.is_callback() && route.topic == topic;
  });
}

}  // namespace dsb::bridge
