#include "loop/lws_log.hpp"

#include <libwebsockets.h>

#include "common/log.hpp"

namespace dsb::loop {
namespace {

extern "C" void emit_lws_line(int level, const char* line) {
  try {
    std::string text(line != nullptr ? line : "");
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    redact_ticket(text);
    if (level & LLL_ERR) {
      log::warn("lws", text);
    } else {
      log::debug("lws", text);
    }
  } catch (...) {
    // Logging must never take the loop down.
  }
}

}  // namespace

void redact_ticket(std::string& text) {
  for (size_t pos = text.find("ticket="); pos != std::string::npos;
       pos = text.find("ticket=", pos + 1)) {
    size_t end = text.find_first_of("& \t\r\n", pos + 7);
    if (end == std::string::npos) end = text.size();
    text.replace(pos + 7, end - pos - 7, "***");
  }
}

void route_lws_logs() { lws_set_log_level(LLL_ERR | LLL_WARN, emit_lws_line); }

}  // namespace dsb::loop
