#include "stream/connection.hpp"

namespace dsb::stream {

std::string_view conn_state_name(ConnState state) {
  switch (state) {
    case ConnState::connecting: return "connecting";
    case ConnState::up: return "up";
    case ConnState::draining: return "draining";
    case ConnState::closing: return "closing";
  }
  return "?";
}

}  // namespace dsb::stream
